"""One retrain at a time: the second refuses naming the holder; a dead holder's lock is taken.
On PostgreSQL, runs on two hosts meet at an advisory lock that a killed run releases."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from service.db.session import make_engine
from training.joblock import LockHeld, database_lock, job_lock


def test_a_second_run_refuses_while_the_first_holds_the_lock(tmp_path):
    path = tmp_path / ".retrain.lock"
    with job_lock(path):
        holder = json.loads(path.read_text())
        who = f"pid {holder['pid']} on {socket.gethostname()}"
        with pytest.raises(LockHeld, match=who), job_lock(path):
            pass
    assert not path.exists()
    with job_lock(path):  # released: the next run takes it
        assert path.exists()


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    proc = subprocess.Popen(["true"])  # its pid names no process once it is reaped
    proc.wait()
    path = tmp_path / ".retrain.lock"
    path.write_text(json.dumps({"pid": proc.pid, "host": socket.gethostname(), "since": "then"}))
    with job_lock(path):
        assert json.loads(path.read_text())["pid"] != proc.pid


def test_a_lock_held_on_another_host_is_never_taken_over(tmp_path):
    path = tmp_path / ".retrain.lock"
    path.write_text(json.dumps({"pid": 1, "host": "elsewhere", "since": "then"}))
    with pytest.raises(LockHeld, match="on elsewhere"), job_lock(path):
        pass


def test_sqlite_needs_no_database_lock(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    with database_lock(engine), database_lock(engine):  # the lock file guards the one host
        pass


@pytest.mark.postgres
def test_a_run_on_another_host_refuses_while_the_database_lock_is_held(postgres_url):
    here, there = make_engine(postgres_url), make_engine(postgres_url)  # one each: two hosts
    with database_lock(here):
        name = rf"autoreply retrain pid {os.getpid()} on {socket.gethostname()}"
        refused = rf"{name} \(database session \d+ .*wait for it"
        with pytest.raises(LockHeld, match=refused), database_lock(there):
            pass
    with database_lock(there):  # released: the next run takes it
        pass
    here.dispose()
    there.dispose()


@pytest.mark.postgres
def test_a_killed_run_releases_the_database_lock(postgres_url):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, postgres_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        engine = make_engine(postgres_url)
        with pytest.raises(LockHeld), database_lock(engine):
            pass
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 10
    while True:  # the server sees the closed connection at once; give it a moment
        try:
            with database_lock(engine):
                break
        except LockHeld:
            assert time.monotonic() < deadline, "the killed run's lock was never released"
            time.sleep(0.1)
    engine.dispose()


HOLD = """
import sys, time
from service.db.session import make_engine
from training.joblock import database_lock
with database_lock(make_engine(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""
