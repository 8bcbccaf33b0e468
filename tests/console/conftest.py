"""Console fixtures: the service's test app (keyword classifier) with handed-off tickets, and a
signed-in test client."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from tests.examples import WORKED
from tests.service.conftest import KEYS, headers, make_client  # noqa: F401 (a shared fixture)
from tests.service.test_api import ticket

HANDOFF_TEXT = "maybe I paid too much for this ride"
# A price well above the estimate: the overcharge rules choose a reply an agent must send.
OVERCHARGE = {
    **WORKED,
    "price_diff_pct": 35,
    "route_changed": False,
    "paid_waiting_minutes": 0,
    "ride_cost": 540,
    "estimated_cost": 400,
}


class _Fields(HTMLParser):
    """Collects what a form would send: inputs with a value (radios when checked), textareas,
    selects (the selected option, else the first)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None
        self._picked = False

    def handle_starttag(self, tag, attrs):
        named = dict(attrs)
        unchecked = named.get("type") == "radio" and "checked" not in named
        if (
            tag == "input"
            and named.get("name")
            and named.get("value") is not None
            and not unchecked
        ):
            self.fields[named["name"]] = named["value"] or ""
        if tag == "textarea":
            self._textarea = named.get("name")
            self.fields[self._textarea or ""] = ""
        if tag == "select":
            self._select, self._picked = named.get("name"), False
        if tag == "option" and self._select and (not self._picked or "selected" in named):
            self.fields[self._select] = named.get("value") or ""  # the first, or the selected
            self._picked = True

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        if tag == "select":
            self._select = None


def seed_handoffs(client: TestClient, n: int, prefix: str = "T-q", **changes) -> list[str]:
    """Send `n` tickets the keyword model is unsure of; return their ids, oldest first."""
    ids = []
    for i in range(n):
        body = ticket(
            id=f"{prefix}{i:03d}", text=f"{HANDOFF_TEXT} #{i}", **{"facts": OVERCHARGE, **changes}
        )
        answer = client.post("/v1/autoreply", json=body, headers=headers())
        assert answer.json()["action"] == "handoff", answer.text
        ids.append(body["id"])
    return ids


def hidden_fields(page: str) -> dict[str, str]:
    """Return the page's inputs with a value and its textareas, by name, unescaped."""
    parser = _Fields()
    parser.feed(page)
    return parser.fields


def sign_in(client: TestClient, key: str = "all") -> TestClient:
    """Sign the client in with one of the test keys; return it."""
    form = client.get("/console/login").text
    token = hidden_fields(form)["csrf"]
    answer = client.post(
        "/console/login",
        data={"csrf": token, "api_key": KEYS[key], "next": "/console/queue"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def decision_links(page: str) -> list[str]:
    """Return the decision ids the queue page links to, top to bottom."""
    return re.findall(r'href="/console/decisions/([0-9a-f]+)\?', page)


@pytest.fixture
def console(make_client) -> TestClient:  # noqa: F811 (the imported fixture, requested by name)
    """A signed-in console over an app holding five handed-off tickets."""
    client = make_client()
    seed_handoffs(client, 5)
    return sign_in(client)
