"""The engine: SQL parameters (ticket text, customer ids) never reach an error message or a log."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.db.migrate import upgrade
from service.db.session import make_engine

SECRET = "rider-secret-42"


def check_parameters_are_hidden(url: str) -> None:
    upgrade(url)
    engine = make_engine(url)
    insert = text("INSERT INTO promo_quota (customer_id, window_start, issued) VALUES (:c, :w, 0)")
    values = {"c": SECRET, "w": "2026-01-01 00:00:00+00"}
    with engine.begin() as conn:
        conn.execute(insert, values)
    with pytest.raises(DBAPIError) as failed, engine.begin() as conn:
        conn.execute(insert, values)  # the same primary key again
    # PostgreSQL's own DETAIL may still quote a key's value: the service therefore logs database
    # errors by class only (tests/service/test_main.py), never their messages.
    assert "parameters hidden" in str(failed.value) and f"'{SECRET}'" not in str(failed.value)
    engine.dispose()


def test_sqlite_errors_hide_the_parameters(tmp_path):
    check_parameters_are_hidden(f"sqlite:///{tmp_path / 'a.db'}")


@pytest.mark.postgres
def test_postgres_errors_hide_the_parameters(postgres_url):
    check_parameters_are_hidden(postgres_url)
