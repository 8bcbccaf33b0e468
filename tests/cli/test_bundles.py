"""`autoreply bundles pack/unpack` through Typer: the way home works, and every refusal is a clear
exit 2 that says what to do."""

import json

import pytest
from typer.testing import CliRunner

from cli import app
from models.bundle import load_bundle
from tests.models.helpers import tiny_bundle
from training.pack import PACK_FILE

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return tiny_bundle(tmp_path_factory.mktemp("tiny"))


def test_pack_then_unpack_gives_a_bundle_the_service_loads(bundle, tmp_path):
    packed = runner.invoke(
        app, ["bundles", "pack", str(bundle), "--out", str(tmp_path / "out"), "--part-mib", "0.5"]
    )
    assert packed.exit_code == 0, packed.output
    summary = json.loads(packed.stdout)
    assert len(list((tmp_path / "out").iterdir())) == len(summary["weights"]["parts"]) + 2
    home = tmp_path / "home" / "current"
    unpacked = runner.invoke(app, ["bundles", "unpack", str(tmp_path / "out"), "--out", str(home)])
    assert unpacked.exit_code == 0, unpacked.output
    result = json.loads(unpacked.stdout)
    assert result["version"] == load_bundle(home).version
    assert result["restored"]["from_version"] == summary["source_version"]
    assert set(result["export"]) == {"onnx-fp32", "onnx-int8"}


def test_a_corrupt_part_exits_2_naming_it(bundle, tmp_path):
    out = tmp_path / "out"
    assert runner.invoke(app, ["bundles", "pack", str(bundle), "--out", str(out)]).exit_code == 0
    part = json.loads((out / PACK_FILE).read_text())["weights"]["parts"][0]["name"]
    (out / part).write_bytes((out / part).read_bytes()[:-1])
    result = runner.invoke(app, ["bundles", "unpack", str(out), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert f"part {part}" in result.stderr and "copy it again" in result.stderr


def test_a_pack_over_the_limits_exits_2_with_what_to_do(bundle, tmp_path):
    too_small = ["bundles", "pack", str(bundle), "--out", str(tmp_path / "o"), "--part-mib", "0.1"]
    result = runner.invoke(app, too_small)
    assert result.exit_code == 2 and "use --part-mib" in result.stderr
    too_big = ["bundles", "pack", str(bundle), "--out", str(tmp_path / "o"), "--part-mib", "20"]
    assert "at most 16" in runner.invoke(app, too_big).stderr
