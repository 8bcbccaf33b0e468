"""The suggest records' write-behind: batches, read-your-writes, clean shutdown, outages."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from service.db.tables import Decision
from service.errors import DatabaseUnavailable, Overloaded
from service.records import RecordWriter, SuggestRecord
from tests.faults.proxy import TcpProxy
from tests.service.conftest import headers
from tests.service.test_api import ticket


class FakeDatabase:
    """Stores committed records; can be cut (every call fails as an outage) or slowed."""

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.batches: list[int] = []
        self.cut = False
        self.refuse: set[str] = set()
        self.slow_s = 0.0

    def write(self, batch: list[SuggestRecord]) -> None:
        self.probe()
        time.sleep(self.slow_s)
        ids = [r.decision["id"] for r in batch]
        if self.refuse & set(ids):
            raise IntegrityError("INSERT", {}, Exception("refused"))
        self.rows.extend(ids)
        self.batches.append(len(ids))

    def probe(self) -> None:
        if self.cut:
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))


def record(i: int) -> SuggestRecord:
    return SuggestRecord({"id": f"T-{i}"}, {"id": f"D-{i}"}, datetime.now(UTC))


def writer(db: FakeDatabase, **options) -> RecordWriter:
    w = RecordWriter(db.write, db.probe, retry_s=0.02, **options)
    w.start()
    return w


def test_records_are_committed_in_batches_and_a_clean_close_loses_none():
    db = FakeDatabase()
    db.slow_s = 0.01  # while one batch commits, the next ones gather
    w = writer(db, batch_max=64)
    for i in range(500):
        w.submit(record(i))
    w.close()
    assert db.rows == [f"D-{i}" for i in range(500)]
    assert max(db.batches) > 1 and max(db.batches) <= 64 and w.pending == 0


def test_flush_returns_once_everything_handed_over_is_committed():
    db = FakeDatabase()
    db.slow_s = 0.005
    w = writer(db)
    for i in range(50):
        w.submit(record(i))
    assert w.flush(5) and len(db.rows) == 50
    w.close()


def test_an_outage_refuses_new_suggestions_and_keeps_the_pending_ones_for_later():
    db = FakeDatabase()
    w = writer(db)
    db.cut = True
    w.submit(record(1))  # handed over before the writer notices
    deadline = time.monotonic() + 5
    while not w.down:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with pytest.raises(DatabaseUnavailable):
        w.check()
    assert not w.flush(0.1) and db.rows == []
    db.cut = False  # the database returns: the pending record is written, suggestions resume
    assert w.flush(5) and db.rows == ["D-1"]
    w.check()
    w.close()


def test_a_database_down_at_start_refuses_at_once_and_recovers_by_probing():
    db = FakeDatabase()
    db.cut = True
    w = writer(db)
    with pytest.raises(DatabaseUnavailable):
        w.submit(record(1))
    db.cut = False
    deadline = time.monotonic() + 5
    while w.down:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    w.submit(record(2))
    w.close()
    assert db.rows == ["D-2"]


def test_a_record_the_database_refuses_is_dropped_alone():
    db = FakeDatabase()
    db.refuse = {"D-3"}
    db.slow_s = 0.01
    w = writer(db)
    for i in range(6):
        w.submit(record(i))
    w.close()
    assert db.rows == ["D-0", "D-1", "D-2", "D-4", "D-5"] and w.dropped == 1


def test_a_full_queue_refuses_with_overloaded():
    db = FakeDatabase()
    gate = threading.Event()
    w = RecordWriter(lambda batch: gate.wait(5) and db.write(batch), db.probe, capacity=3)
    w.start()
    for i in range(3):  # a record counts as pending until its batch is committed
        w.submit(record(i))
    with pytest.raises(Overloaded):
        w.submit(record(3))
    gate.set()
    w.close()
    assert db.rows == ["D-0", "D-1", "D-2"]


def test_a_close_while_the_database_is_down_gives_up_after_its_time_and_says_so(caplog):
    db = FakeDatabase()
    w = writer(db)
    db.cut = True
    w.submit(record(1))
    started = time.monotonic()
    w.close(shutdown_s=0.3)
    assert 0.3 <= time.monotonic() - started < 3
    assert "1 suggest records not committed" in caplog.text


def test_records_linger_into_one_batch_at_a_low_rate():
    db = FakeDatabase()
    w = writer(db, linger_s=0.2)
    for i in range(5):
        w.submit(record(i))
        time.sleep(0.01)
    assert w.flush(5)  # a flush does not wait out the linger
    w.close()
    assert db.batches == [5]


def test_the_app_gathers_records_for_its_linger_setting_and_a_read_does_not_wait(make_client):
    client = make_client(record_linger_ms=2000)
    records = client.app.state.autoreply.records
    assert records.linger_s == 2.0
    with client:
        first = client.post("/v1/suggest", json=ticket(id="T-a"), headers=headers()).json()
        client.post("/v1/suggest", json=ticket(id="T-b"), headers=headers())
        assert records.pending == 2  # both wait in one batch, not a commit each
        started = time.monotonic()
        read = client.get(f"/v1/decisions/{first['decision_id']}", headers=headers())
        assert read.status_code == 200 and time.monotonic() - started < 2.0
        assert records.pending == 0


def test_a_clean_shutdown_of_the_app_commits_every_suggestion_shown(make_client):
    client = make_client()
    with client:  # the lifespan runs: its end is a clean shutdown
        ids = [
            client.post("/v1/suggest", json=ticket(id=f"T-{i}"), headers=headers()).json()[
                "decision_id"
            ]
            for i in range(40)
        ]
    with client.app.state.autoreply.sessions() as session:
        stored = set(session.scalars(select(Decision.id).where(Decision.kind == "suggest")))
    assert stored == set(ids)


def test_feedback_right_after_a_suggestion_finds_it(client):
    shown = client.post("/v1/suggest", json=ticket(id="T-fast"), headers=headers()).json()
    body = {"ticket_id": "T-fast", "decision_id": shown["decision_id"], "csat": 5}
    assert client.post("/v1/feedback", json=body, headers=headers()).status_code == 201
    assert client.get(f"/v1/decisions/{shown['decision_id']}", headers=headers()).status_code == 200


@pytest.mark.postgres
def test_a_database_cut_refuses_suggestions_then_writes_what_was_shown(make_client, postgres_url):
    upstream = make_url(postgres_url)
    proxy = TcpProxy(upstream.port or 5432)
    try:
        client = make_client(upstream.set(port=proxy.port).render_as_string(hide_password=False))
        shown = [client.post("/v1/suggest", json=ticket(id="T-0"), headers=headers())]
        proxy.cut()
        deadline = time.monotonic() + 10
        while shown[-1].status_code == 200:  # answered until the writer's commit fails
            assert time.monotonic() < deadline
            shown.append(client.post("/v1/suggest", json=ticket(id="T-1"), headers=headers()))
        refused = shown.pop()
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
        assert refused.json()["error"] == "database_unavailable"
        proxy.restore()
        deadline = time.monotonic() + 10
        while (
            client.post("/v1/suggest", json=ticket(id="T-2"), headers=headers()).status_code != 200
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        records = client.app.state.autoreply.records
        assert records.flush(10)
        with records_of(postgres_url) as stored:
            assert {a.json()["decision_id"] for a in shown} <= stored
    finally:
        proxy.cut()


@contextmanager
def records_of(url: str) -> Iterator[set[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            yield set(conn.scalars(select(Decision.id)))
    finally:
        engine.dispose()
