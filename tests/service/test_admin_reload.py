"""POST /v1/admin/reload: atomic swaps, broken versions refused while the old ones keep serving."""

from __future__ import annotations

from tests.service.conftest import headers
from tests.service.test_api import ticket


def test_reload_swaps_in_a_new_rulebook(make_client, book_copy, tmp_path):
    client = make_client(reload_roots=[tmp_path])
    root = book_copy(
        ("rules/riders_ride_cost.yaml", "- coupon_use_value = 100", "- coupon_use_value = 200")
    )
    before = client.get("/readyz").json()["checks"]["rulebook"]["version"]
    answer = client.post(
        "/v1/admin/reload",
        json={"rules": True, "model": False, "rulebook_dir": str(root)},
        headers=headers(),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["rulebook_version"] != before
    body = client.post("/v1/autoreply", json=ticket(), headers=headers()).json()
    assert body["suggestions"][0]["template_id"] != "riders.promo_reissue"


def test_a_broken_rulebook_is_refused_with_its_errors_and_the_old_one_serves(
    make_client, book_copy, tmp_path
):
    client = make_client(reload_roots=[tmp_path])
    root = book_copy(("rules/drivers.yaml", "driver_rating < 4.5", "driver_ratng < 4.5"))
    before = client.get("/readyz").json()["checks"]["rulebook"]["version"]
    answer = client.post(
        "/v1/admin/reload",
        json={"rules": True, "model": False, "rulebook_dir": str(root)},
        headers=headers(),
    )
    assert answer.status_code == 409
    assert "did you mean 'driver_rating'" in answer.json()["details"][0]["message"]
    assert client.get("/readyz").json()["checks"]["rulebook"]["version"] == before
    assert (
        client.post("/v1/autoreply", json=ticket(), headers=headers()).json()["action"] == "reply"
    )


def test_a_rulebook_whose_topics_do_not_fit_the_model_is_refused(make_client, book_copy, tmp_path):
    client = make_client(reload_roots=[tmp_path])
    root = book_copy(
        (
            "topics/riders.yaml",
            "      - id: overcharge\n",
            "      - id: surge_pricing\n        title: {ru: Повышенный спрос, en: Surge pricing}\n      - id: overcharge\n",
        ),
        (
            "rules/zz_surge.yaml",
            "",
            "owner: ops\nrules:\n  - id: surge_fallback\n    topic: riders/ride_cost/surge_pricing\n"
            "    description: A new topic the model has never seen.\n    template: riders.promo_escalate\n",
        ),
    )
    answer = client.post(
        "/v1/admin/reload",
        json={"rules": True, "model": False, "rulebook_dir": str(root)},
        headers=headers(),
    )
    assert answer.status_code == 409 and "differ from the model" in answer.json()["message"]


def test_model_reload_keeps_the_old_model_when_the_new_one_fails(make_client, tmp_path):
    client = make_client(reload_roots=[tmp_path])
    state = client.app.state.autoreply
    old = state.models.current

    def broken(_dir, _topics):
        raise ValueError("bundle is incomplete: no weights")

    state.models.loader = broken
    answer = client.post(
        "/v1/admin/reload",
        json={"rules": False, "model": True, "bundle_dir": str(tmp_path)},
        headers=headers(),
    )
    assert answer.status_code == 409 and "no weights" in answer.json()["message"]
    assert state.models.current is old


def test_reload_needs_the_admin_scope(client):
    assert client.post("/v1/admin/reload", json={}, headers=headers("agent")).status_code == 403


def test_reload_reads_only_under_the_reload_roots(client, tmp_path):
    before = client.get("/readyz").json()["checks"]
    for body in ({"rulebook_dir": "/etc"}, {"bundle_dir": str(tmp_path / ".." / "..")}):
        answer = client.post("/v1/admin/reload", json=body, headers=headers())
        assert answer.status_code == 403 and "AUTOREPLY_RELOAD_ROOTS" in answer.text
    assert client.get("/readyz").json()["checks"] == before
