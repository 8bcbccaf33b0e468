"""The agent's pages through the HTTP client: the queue, a ticket, and every action as feedback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.db.tables import Feedback
from tests.console.conftest import decision_links, hidden_fields, seed_handoffs, sign_in
from tests.service.conftest import headers
from tests.service.test_api import PRAISE, ticket


def feedback_rows(client) -> list[Feedback]:
    with client.app.state.autoreply.sessions() as session:
        return list(session.scalars(select(Feedback).order_by(Feedback.created_at)))


def open_first(console):
    decision = decision_links(console.get("/console/queue").text)[0]
    page = console.get(f"/console/decisions/{decision}")
    assert page.status_code == 200
    return decision, page


def act(console, decision, **changes):
    page = console.get(f"/console/decisions/{decision}").text
    form = {**hidden_fields(page), "action": "send", **changes}
    return console.post(f"/console/decisions/{decision}/act", data=form, follow_redirects=False)


def test_the_queue_lists_hand_offs_newest_first_and_no_replies(console):
    console.post("/v1/autoreply", json=ticket(id="T-replied"), headers=headers())
    page = console.get("/console/queue").text
    assert "T-replied" not in page
    assert [page.index(f"T-q{i:03d}") for i in (4, 3, 2, 1, 0)] == sorted(
        page.index(f"T-q{i:03d}") for i in range(5)
    )


def test_the_queue_filters_by_line_locale_topic_and_reason(console):
    console.post(
        "/v1/autoreply", json=ticket(id="T-praise", text=PRAISE, facts={}), headers=headers()
    )
    by_reason = console.get("/console/queue?reason=guard_gratitude").text
    assert "T-praise" in by_reason and "T-q000" not in by_reason
    assert "T-q000" in console.get("/console/queue?line=riders&locale=en").text
    assert "T-q000" not in console.get("/console/queue?locale=ru").text
    topic = console.get("/console/queue?topic=riders/ride_cost/overcharge").text
    assert "T-q000" in topic and "T-praise" not in topic
    assert "T-q000" not in console.get("/console/queue?reason=no_such_reason&line=drivers").text


def test_pages_walk_the_queue_by_keyset_without_gaps_or_repeats(make_client):
    client = sign_in(make_client())
    seed_handoffs(client, 60)
    seen, page, older = [], client.get("/console/queue").text, None
    while True:
        seen += decision_links(page)
        older = hidden_link(page, "next")
        if older is None:
            break
        page = client.get(older).text
    assert len(seen) == 60 == len(set(seen))
    back = client.get(hidden_link(page, "prev")).text
    assert decision_links(back) == seen[25:50]


def hidden_link(page: str, rel: str) -> str | None:
    import html
    import re

    found = re.search(rf'<a rel="{rel}" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


def test_a_ticket_shows_text_facts_replies_with_levels_and_why(console):
    _, page = open_first(console)
    text = page.text
    assert "maybe I paid too much" in text and "complete_rides" in text
    assert "The model is not confident enough about the topic." in text  # reason in words
    assert "Ride cost" in text or "ride_cost" in text  # a level of the topic path, titled
    assert 'class="prob"' in text and "%" in text
    assert "price_diff_pct &gt;= 20 holds: price_diff_pct is 35" in text  # a condition, its value


def test_ticket_text_is_shown_as_text_never_as_markup(make_client):
    client = sign_in(make_client())
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    body = ticket(id="T-xss", text=f"maybe {hostile}", dialogue=[hostile])
    client.post("/v1/autoreply", json=body, headers=headers())
    decision = decision_links(client.get("/console/queue").text)[0]
    for page in (
        client.get("/console/queue").text,
        client.get(f"/console/decisions/{decision}").text,
    ):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_sending_as_is_records_the_suggestion_and_opens_the_next_ticket(console):
    decision, page = open_first(console)
    form = hidden_fields(page.text)
    answer = act(console, decision)
    assert answer.status_code == 303 and "/console/decisions/" in answer.headers["location"]
    (row,) = feedback_rows(console)
    assert (row.template_id, row.edited, row.decision_id) == (form["choice"], False, decision)
    assert row.final_text == form["text"].strip() and row.agent_id.startswith("key:")
    assert decision not in decision_links(console.get("/console/queue").text)  # done: off the queue


def test_the_same_form_sent_twice_records_once(console):
    decision, page = open_first(console)
    form = {**hidden_fields(page.text), "action": "send"}
    for _ in range(2):
        answer = console.post(
            f"/console/decisions/{decision}/act", data=form, follow_redirects=False
        )
        assert answer.status_code == 303
    assert len(feedback_rows(console)) == 1


def test_an_edited_reply_is_recorded_as_edited_with_its_text(console):
    decision, _ = open_first(console)
    act(console, decision, text="Hello! We checked the ride and refunded the difference.")
    (row,) = feedback_rows(console)
    assert row.edited is True and row.final_text.startswith("Hello! We checked")


def test_another_template_from_the_list_and_an_escalation_with_a_wrong_mark(console):
    first, _ = open_first(console)
    act(console, first, other_template="riders.receipt_how_to", text="")
    second = decision_links(console.get("/console/queue").text)[0]
    act(console, second, action="escalate", wrong_reason="needs_person")
    other, escalated = feedback_rows(console)
    assert other.template_id == "riders.receipt_how_to" and "receipt" in other.final_text
    assert escalated.escalated is True and escalated.template_id is None
    assert escalated.wrong_reason == "needs_person" and escalated.wrong_template_id


@pytest.mark.parametrize(
    ("changes", "status", "says"),
    [
        ({"csrf": "forged"}, 403, "expired"),
        ({"other_template": "riders.no_such_template"}, 422, "no_such_template"),
        ({"choice": ""}, 422, "pick a suggestion"),
    ],
)
def test_a_failed_action_shows_why_and_keeps_what_the_agent_typed(console, changes, status, says):
    decision, _ = open_first(console)
    typed = "My own careful words <b>kept</b>, line one\nline two"
    answer = act(console, decision, text=typed, topic="riders/payment/receipt", **changes)
    assert answer.status_code == status and says in answer.text
    kept = hidden_fields(answer.text)
    assert kept["text"] == typed and kept["topic"] == "riders/payment/receipt"
    assert feedback_rows(console) == []


def test_the_preview_renders_any_template_of_the_rulebook_for_this_ride(console):
    decision, _ = open_first(console)
    ok = console.get(f"/console/decisions/{decision}/preview?template=riders.receipt_how_to")
    assert ok.status_code == 200 and "receipt" in ok.json()["text"]
    missing = console.get(f"/console/decisions/{decision}/preview?template=nope")
    assert missing.status_code == 422


def test_a_reply_still_holding_the_promo_placeholder_is_never_sent(console):
    decision, _ = open_first(console)
    answer = act(console, decision, other_template="riders.promo_reissue", text="")
    assert answer.status_code == 422 and "placeholder" in answer.text
    assert feedback_rows(console) == []


def test_an_unknown_decision_is_a_404_page(console):
    assert console.get("/console/decisions/0123").status_code == 404


@pytest.mark.postgres
def test_queue_and_sending_on_postgres(make_client, postgres_url):
    client = sign_in(make_client(postgres_url))
    seed_handoffs(client, 30)
    page = client.get("/console/queue").text
    assert len(decision_links(page)) == 25 and hidden_link(page, "next")
    decision = decision_links(page)[0]
    form = {**hidden_fields(client.get(f"/console/decisions/{decision}").text), "action": "send"}
    for _ in range(2):  # the same form twice: recorded once
        answer = client.post(
            f"/console/decisions/{decision}/act", data=form, follow_redirects=False
        )
        assert answer.status_code == 303
    assert len(feedback_rows(client)) == 1
