"""The serving process imports only what serving needs: no torch, no training stack."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("torch", "transformers", "sklearn", "matplotlib", "scipy", "training", "cli")


def loaded_by(statement: str) -> list[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules = set(out.stdout.split())
    return [name for name in HEAVY if name in modules]


def test_the_service_imports_no_training_stack():
    assert loaded_by("import service.main") == []


def test_serving_a_bundle_and_deciding_import_no_training_stack():
    statement = "import models.runtime, models.abstention, service.assess, rules.loader"
    assert loaded_by(statement) == []


def test_the_redis_client_is_imported_only_where_redis_is_configured():
    code = "import sys, service.main; print('redis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
