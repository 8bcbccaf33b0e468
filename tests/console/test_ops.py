"""The operations view: per line and topic figures with a chart, and the rulebook comparison."""

from __future__ import annotations

from tests.console.conftest import decision_links, hidden_fields, seed_handoffs, sign_in
from tests.service.conftest import headers
from tests.service.test_api import ticket
from tests.service.test_shadow import RIVAL, post_tickets

RULE = "rules/riders_ride_cost.yaml"


def test_figures_per_topic_shadow_against_on_agreement_and_unsafe_reports(make_client):
    client = sign_in(make_client(line_modes={"riders": "shadow", "drivers": "on"}))
    client.post("/v1/autoreply", json=ticket(id="T-shadow"), headers=headers())  # would reply
    seed_handoffs(client, 2)
    decision = decision_links(client.get("/console/queue").text)[-1]  # the shadow one
    form = hidden_fields(client.get(f"/console/decisions/{decision}").text)
    marked = {**form, "action": "escalate", "wrong_reason": "unsafe"}
    assert client.post(f"/console/decisions/{decision}/act", data=marked).status_code == 200
    page = client.get("/console/ops")
    assert page.status_code == 200
    text = page.text
    assert "riders/ride_cost/promo_not_applied" in text
    assert "100% <small>(1/1)</small>" in text  # the shadow line would have replied
    assert "<polyline" in text and "riders (shadow)" in text  # the chart, server-drawn
    assert 'class="n alarm">1<' in text  # one unsafe report
    assert "low_confidence ×2" in text


def test_the_comparison_shows_decisions_another_rulebook_would_change(
    make_client, book_copy, tmp_path
):
    client = sign_in(make_client(reload_roots=[tmp_path]))
    client.post("/v1/autoreply", json=ticket(id="T-promo"), headers=headers())
    seed_handoffs(client, 2)
    other = book_copy((RULE, "coupon_use_value = 100", "coupon_use_value = 200"))
    page = client.get("/console/ops/compare", params={"directory": str(other)})
    assert page.status_code == 200, page.text
    assert "<b>1</b> of 3 recorded tickets would be decided differently" in page.text
    assert "promo_burnt_reissue → riders.promo_reissue" in page.text and "T-promo" in page.text
    assert str(other) in client.get("/console/ops/compare").text  # offered in the list


def test_the_comparison_reads_only_under_the_allowed_roots_and_reports_broken_books(
    make_client, book_copy, tmp_path
):
    client = sign_in(make_client(reload_roots=[tmp_path]))
    outside = client.get("/console/ops/compare", params={"directory": "/etc"})
    assert outside.status_code == 403 and "AUTOREPLY_RELOAD_ROOTS" in outside.text
    broken = book_copy((RULE, "coupon_use_value = 100", "coupon_use_valu = 100"))
    answer = client.get("/console/ops/compare", params={"directory": str(broken)})
    assert answer.status_code == 422 and "coupon_use_valu" in answer.text


def test_the_comparison_needs_the_admin_scope(make_client, tmp_path):
    client = sign_in(make_client(reload_roots=[tmp_path]), "console")
    answer = client.get("/console/ops/compare", params={"directory": str(tmp_path)})
    assert answer.status_code == 403 and "admin scope" in answer.text


def test_the_challenger_in_shadow_against_the_champion(make_client):
    assert "No challenger is scored in shadow" in sign_in(make_client()).get("/console/ops").text
    client = sign_in(make_client(rival=RIVAL))
    post_tickets(client)
    page = client.get("/console/ops")
    assert page.status_code == 200
    text = page.text
    assert "<code>fake-2</code> decided beside the champion on 4 tickets" in text
    for row in ("Decided the same", "Only the champion would reply",
                "Only the challenger would reply", "Both would reply, with different templates"):  # fmt: skip
        assert f'<td>{row}</td><td class="n">1</td>' in text, row
    assert '<td>Would reply (of 4 tickets)</td><td class="n">2</td><td class="n">2</td>' in text
    assert "Version <code>fake-2</code> has scored no ticket" not in text
