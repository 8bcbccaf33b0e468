"""Redis cut under load: the service answers every request on its in-process fallback."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import new_tickets
from tests.faults.harness import load, report, running_service, service_env

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


def test_redis_cut_under_load(bundle, postgres_url, redis_proxy, tmp_path):
    proxy, proxied_url = redis_proxy
    env = service_env(bundle, postgres_url, proxied_url)
    with (
        running_service(env, tmp_path / "s.log") as service,
        load(service.url, new_tickets("RD")) as outcomes,
    ):
        time.sleep(1.5)
        proxy.cut()
        time.sleep(2.0)
        proxy.restore()
        time.sleep(1.5)
    assert len(outcomes) > 20
    assert not [(o.status, o.answer) for o in outcomes if o.status != 200]
    report("redis_cut", requests=len(outcomes), failed=0)
