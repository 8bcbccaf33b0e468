"""Fuzzing from the OpenAPI schema, and hostile inputs, against the real process on PostgreSQL:
no server error, ever. A bounded budget here; benchmarks/reliability.py runs 20,000 cases."""

from __future__ import annotations

import os

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    status_code_conformance,
)

from tests.faults.harness import KEY_HEADERS, report, running_service, service_env
from tests.service.test_schemas import HOSTILE_TICKETS

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
# Cases per operation and generation mode; the benchmark raises it (AUTOREPLY_FUZZ_EXAMPLES).
EXAMPLES = int(os.environ.get("AUTOREPLY_FUZZ_EXAMPLES", "50"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    positive_data_acceptance,
]
# A reload loads the whole bundle (seconds each): it is tested on its own, not fuzzed.
NOT_FUZZED = "/v1/admin/reload"


def fuzz(url: str, examples: int) -> int:
    """Run `examples` generated cases per operation and mode against `url`; return the count."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json").exclude(path=NOT_FUZZED)
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: schemathesis.Case) -> None:
                nonlocal sent
                response = case.call(base_url=url, headers=KEY_HEADERS, timeout=30)
                case.validate_response(response, checks=CHECKS)
                sent += 1

            try:
                run()
            except Unsatisfiable:
                # Every request is valid (the probes; any string is a decision id): none to break.
                assert mode is GenerationMode.NEGATIVE, operation.label
    return sent


def test_fuzzing_finds_no_server_error(bundle, postgres_url, redis_url, tmp_path):
    env = service_env(bundle, postgres_url, redis_url)
    with running_service(env, tmp_path / "service.log") as service:
        cases = fuzz(service.url, EXAMPLES)
    assert cases > 0
    report("fuzz", cases=cases, server_errors=0)


def test_hostile_inputs_are_refused_by_the_real_process(bundle, postgres_url, tmp_path):
    env = service_env(bundle, postgres_url, None)
    with (
        running_service(env, tmp_path / "s.log") as service,
        httpx.Client(base_url=service.url, headers=KEY_HEADERS, timeout=30) as client,
    ):
        for route in ("/v1/autoreply", "/v1/suggest"):
            for body, field in HOSTILE_TICKETS:
                answer = client.post(route, json=body)
                assert answer.status_code == 422, (field, answer.text)
        huge = {"id": "T", "facts": {"requirements": ["x" * 1000] * 1000}}  # 1 MB
        assert client.post("/v1/autoreply", json=huge).status_code == 413
    report("hostile_inputs", requests=2 * len(HOSTILE_TICKETS) + 1, server_errors=0)
