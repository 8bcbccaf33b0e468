"""One retrain at a time: the second refuses naming the holder; a dead holder's lock is taken."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from training.joblock import LockHeld, job_lock


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
