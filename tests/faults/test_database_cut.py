"""PostgreSQL cut under load: only 503s while it is gone, no reply unrecorded, back within 2 s."""

from __future__ import annotations

import time

import pytest

from tests.faults.conftest import assert_logs_keep_secrets, new_tickets, recorded
from tests.faults.harness import load, report, running_service, service_env

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.slow]
CUT_S = 2.0
RECOVERY_S = 2.0


def test_database_cut_under_load(bundle, postgres_url, postgres_proxy, tmp_path):
    proxy, proxied_url = postgres_proxy
    env = service_env(bundle, proxied_url, None)
    with running_service(env, tmp_path / "service.log") as service:
        with load(service.url, new_tickets("DB")) as outcomes:
            time.sleep(1.5)
            proxy.cut()
            time.sleep(CUT_S)
            proxy.restore()
            restored = time.monotonic()
            time.sleep(RECOVERY_S + 1.0)
        logs = service.logs()

    failed = [o for o in outcomes if o.status != 200]
    assert failed, "the cut hit no request"
    assert {o.status for o in failed} == {503}, {o.status for o in failed}
    assert all(o.answer and o.answer["error"] == "database_unavailable" for o in failed)
    assert all(o.retry_after == "1" for o in failed)

    after = [o for o in outcomes if o.started >= restored]
    first_ok = min(o.ended for o in after if o.status == 200)
    assert first_ok - restored < RECOVERY_S
    assert not [o for o in after if o.status != 200 and o.started > restored + RECOVERY_S]

    db = recorded(postgres_url)
    answered = [o.answer for o in outcomes if o.status == 200 and o.answer]
    assert {a["decision_id"] for a in answered} <= db["decisions"]
    sent = [a for a in answered if a.get("reply")]
    assert sent and all(db["replies"].get(a["decision_id"]) == a["reply"]["text"] for a in sent)
    assert_logs_keep_secrets(logs, [code for _, _, code in db["codes"]])
    report(
        "database_cut",
        requests=len(outcomes),
        ok=len(answered),
        unavailable_503=len(failed),
        unrecorded=0,
        recovery_s=round(first_ok - restored, 2),
    )
