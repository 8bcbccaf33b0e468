"""Fault fixtures: tickets a load can send, proxies in front of PostgreSQL and Redis, and checks of
what a run left in the database and in the service's logs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.schemas import WORKED_EXAMPLE
from service.settings import DEV_API_KEY
from tests.faults.proxy import TcpProxy

# Distinctive values, so that a grep of the logs finds any leak of a customer id or of the text.
CUSTOMER = "cust-secret"
TEXT_MARK = "without the discount"


def worked_ticket(ticket_id: str, customer: int) -> dict[str, Any]:
    """Return the case's worked example (a promo reply) as ticket `ticket_id` of one customer."""
    body = json.loads(json.dumps(WORKED_EXAMPLE))
    return {**body, "id": ticket_id, "customer_id": f"{CUSTOMER}-{customer}"}


def new_tickets(prefix: str) -> Callable[[int], tuple[str, dict[str, Any]]]:
    """Return request `i` of a load: a new ticket each, three autoreplies to one suggest."""

    def request(i: int) -> tuple[str, dict[str, Any]]:
        route = "/v1/suggest" if i % 4 == 3 else "/v1/autoreply"
        return route, worked_ticket(f"{prefix}-{i}", customer=i)

    return request


@pytest.fixture
def postgres_proxy(postgres_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy in front of the test's PostgreSQL database, and the URL that goes through it."""
    upstream = make_url(postgres_url)
    proxy = TcpProxy(upstream.port or 5432)
    yield proxy, upstream.set(port=proxy.port).render_as_string(hide_password=False)
    proxy.cut()


@pytest.fixture
def redis_proxy(redis_url: str) -> Iterator[tuple[TcpProxy, str]]:
    """A proxy in front of the test Redis, and the URL that goes through it."""
    upstream = urlsplit(redis_url)
    proxy = TcpProxy(upstream.port or 6379)
    yield proxy, f"redis://127.0.0.1:{proxy.port}{upstream.path}"
    proxy.cut()


def recorded(database_url: str) -> dict[str, Any]:
    """Return what the database holds: decision ids, reply texts by decision, codes by ticket."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        decisions = set(conn.execute(text("SELECT id FROM decisions")).scalars())
        replies = {d: t for d, t in conn.execute(text("SELECT decision_id, text FROM replies"))}
        codes = conn.execute(text("SELECT ticket_id, customer_id, code FROM promo_codes")).all()
    engine.dispose()
    return {"decisions": decisions, "replies": replies, "codes": codes}


def assert_logs_keep_secrets(logs: str, codes: list[str]) -> None:
    """The logs name no customer, quote no ticket text, and hold no API key or promo code."""
    assert logs.strip(), "the service wrote no log at all"
    assert CUSTOMER not in logs and TEXT_MARK not in logs and DEV_API_KEY not in logs
    assert not [code for code in codes if code in logs]
