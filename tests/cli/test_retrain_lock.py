"""`autoreply retrain` on a shared PostgreSQL: while a run on another host holds the database's
advisory lock, a second run exits 75 naming the holder, before it reads or trains anything."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli import app
from cli.retrain import BUSY_EXIT
from service.db.migrate import upgrade
from service.db.session import make_engine
from training.joblock import database_lock

pytestmark = pytest.mark.postgres


def test_a_second_retrain_on_another_host_exits_75_and_says_what_to_do(
    postgres_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("AUTOREPLY_DATABASE_URL", postgres_url)
    upgrade(postgres_url)
    other_host = make_engine(postgres_url)
    args = ["retrain", "--config", "training/configs/retrain_quick.json",
            "--registry", str(tmp_path / "bundles")]  # fmt: skip
    with database_lock(other_host):
        result = CliRunner().invoke(app, args)
    other_host.dispose()
    assert result.exit_code == BUSY_EXIT, result.output
    assert "holds this database's retrain lock" in result.output
    assert "wait for it to finish and run again" in result.output
    assert not (tmp_path / "bundles" / ".retrain.lock").exists()  # the file lock was let go
    after = CliRunner().invoke(app, args)  # free again: it goes on, to the missing champion
    assert after.exit_code == 2 and "no champion" in after.output, after.output
