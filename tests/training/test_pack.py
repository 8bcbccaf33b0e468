"""Carrying a bundle home: pack it into fp16 parts + one archive + pack.json, unpack it here
(every hash checked, fp32 restored, ONNX, int8 and parity redone), serve the same predictions."""

import json
import re
import shutil
import tarfile

import pytest

from models.bundle import MANIFEST, ONNX_FILES, load_bundle
from models.network import WEIGHTS_FILE
from models.runtime import load_classifier
from tests.models.helpers import tiny_bundle
from training.pack import (
    ARCHIVE,
    MIB,
    PACK_FILE,
    PackError,
    check_limits,
    pack_bundle,
    unpack_bundle,
)
from training.package import PARITY_FILE

pytestmark = pytest.mark.slow
TEXTS = ["Hello, promo code not applied. Please help", "Здравствуйте, водитель грубил", "thanks"]


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    root = tmp_path_factory.mktemp("pack")
    bundle = tiny_bundle(root)
    return bundle, pack_bundle(bundle, root / "pack", part_mib=0.5), root / "pack"


@pytest.fixture(scope="module")
def home(packed, tmp_path_factory):
    return unpack_bundle(packed[2], tmp_path_factory.mktemp("home") / "bundle")


def copy_pack(packed, tmp_path):
    return shutil.copytree(packed[2], tmp_path / "pack")


def test_pack_is_fp16_parts_an_archive_and_pack_json(packed):
    bundle, summary, pack_dir = packed
    parts = summary["weights"]["parts"]
    assert len(parts) >= 3 and all(p["bytes"] <= MIB / 2 for p in parts)
    assert sorted(p.name for p in pack_dir.iterdir()) == sorted(
        [PACK_FILE, ARCHIVE, *(p["name"] for p in parts)]
    )
    assert summary["weights"]["bytes"] < 0.55 * (bundle / WEIGHTS_FILE).stat().st_size
    assert summary["source_version"] == load_bundle(bundle).version
    with tarfile.open(pack_dir / ARCHIVE) as tar:
        members = set(tar.getnames())
    assert {MANIFEST, "config.json", "tokenizer.json", "topics.json", PARITY_FILE} <= members
    assert {"calibration.json", "thresholds.json", "metrics.json"} <= members
    assert not members & {WEIGHTS_FILE, *ONNX_FILES.values()}


def test_unpacked_bundle_serves_the_same_predictions_within_fp16(packed, home):
    original = load_classifier(packed[0], backend="onnx-fp32")
    restored = load_classifier(home, backend="onnx-fp32")
    assert restored.version != original.version  # other weights, another version
    for line in original.lines:
        pairs = zip(
            original.predict(TEXTS, line, k=99), restored.predict(TEXTS, line, k=99), strict=True
        )
        for a, b in pairs:
            assert {c.path: c.prob for c in b.candidates} == pytest.approx(
                {c.path: c.prob for c in a.candidates}, abs=2e-3
            )
            assert b.guard == pytest.approx(a.guard, abs=2e-3)
    manifest = json.loads((home / MANIFEST).read_text())
    assert manifest["restored"]["from_version"] == original.version
    assert manifest["data_fingerprint"] == original.bundle.data_fingerprint
    export = json.loads((home / "metrics.json").read_text())["export"]
    assert all(e["top1_agreement"] == 1.0 for e in export["onnx-fp32"].values())


def test_a_corrupt_part_is_named_and_nothing_is_published(packed, tmp_path):
    pack_dir = copy_pack(packed, tmp_path)
    name = packed[1]["weights"]["parts"][1]["name"]
    data = bytearray((pack_dir / name).read_bytes())
    data[100] ^= 0xFF
    (pack_dir / name).write_bytes(bytes(data))
    with pytest.raises(PackError, match=rf"part {re.escape(name)} .* does not match its sha256"):
        unpack_bundle(pack_dir, tmp_path / "bundle")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]


def test_a_missing_part_is_named(packed, tmp_path):
    pack_dir = copy_pack(packed, tmp_path)
    name = packed[1]["weights"]["parts"][-1]["name"]
    (pack_dir / name).unlink()
    with pytest.raises(PackError, match=rf"part {re.escape(name)} is missing"):
        unpack_bundle(pack_dir, tmp_path / "bundle")


def test_parts_that_do_not_join_into_the_packed_weights_are_refused(packed, tmp_path):
    pack_dir = copy_pack(packed, tmp_path)
    manifest = json.loads((pack_dir / PACK_FILE).read_text())
    first, second = manifest["weights"]["parts"][:2]
    first["name"], second["name"] = second["name"], first["name"]  # each hash still matches
    first["sha256"], second["sha256"] = second["sha256"], first["sha256"]
    (pack_dir / PACK_FILE).write_text(json.dumps(manifest))
    with pytest.raises(PackError, match=r"joined weight parts .* do not match"):
        unpack_bundle(pack_dir, tmp_path / "bundle")


def test_too_many_parts_are_refused_with_the_part_size_to_use(packed, tmp_path):
    with pytest.raises(
        PackError, match=r"[0-9]+ files, over the 8 .* use --part-mib 0\.[0-9]+ or more"
    ):
        pack_bundle(packed[0], tmp_path / "pack", part_mib=0.25)
    assert not (tmp_path / "pack").exists()


@pytest.mark.parametrize(
    ("sizes", "problem"),
    [
        ({ARCHIVE: 1, "part00": 17 * MIB}, "part00 would be over 16 MiB"),
        ({ARCHIVE: 1, **{f"part{i}": 15 * MIB for i in range(5)}}, "75.0 MiB, over the 64"),
    ],
)
def test_a_pack_over_the_size_limits_is_refused(sizes, problem):
    with pytest.raises(PackError, match=problem):
        check_limits(sizes, sum(sizes.values()))


def test_a_non_empty_out_folder_is_refused(packed):
    with pytest.raises(PackError, match="is not empty"):
        pack_bundle(packed[0], packed[2])
