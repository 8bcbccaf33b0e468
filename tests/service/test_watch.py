"""The pointer watch: a moved `current` symlink is reloaded once, a still one never; the `shadow`
symlink brings a challenger and takes it away; workers follow an admin reload another worker
announced."""

from __future__ import annotations

import time

from service.watch import PointerWatch, follow_reloads
from tests.service.conftest import KEYWORDS, headers


def registry_with_pointer(tmp_path):
    for name in ("v1", "v2"):
        (tmp_path / "reg" / name).mkdir(parents=True)
    pointer = tmp_path / "reg" / "current"
    pointer.symlink_to("v1")
    return pointer


def move(pointer, version: str) -> None:
    fresh = pointer.with_name(f".{pointer.name}.new")
    fresh.symlink_to(version)
    fresh.replace(pointer)


def test_a_moved_pointer_swaps_the_model_once(make_client, tmp_path):
    pointer = registry_with_pointer(tmp_path)
    state = make_client(bundle_dir=pointer).app.state.autoreply
    watch, before = PointerWatch(state), state.models.current
    assert watch.check() is None and state.models.current is before
    move(pointer, "v2")
    assert watch.check() == "fake-1" and state.models.current is not before
    after = state.models.current
    assert watch.check() is None and state.models.current is after


def test_the_running_app_follows_the_pointer_when_the_setting_asks(make_client, tmp_path):
    pointer = registry_with_pointer(tmp_path)
    with make_client(bundle_dir=pointer, bundle_watch_s=0.02) as client:
        state = client.app.state.autoreply
        before = state.models.current
        move(pointer, "v2")
        deadline = time.monotonic() + 5
        while state.models.current is before and time.monotonic() < deadline:
            time.sleep(0.02)
        assert state.models.current is not before


def test_the_shadow_pointer_brings_the_challenger_and_taking_it_away_drops_it(
    make_client, tmp_path
):
    pointer = registry_with_pointer(tmp_path)
    shadow = pointer.with_name("shadow")
    client = make_client(bundle_dir=pointer, rival=KEYWORDS, challenger="shadow")
    state = client.app.state.autoreply
    watch = PointerWatch(state)
    assert state.challenger.current is None and watch.check_challenger() is None
    move(shadow, "v2")
    assert watch.check_challenger() == "fake-2" and state.challenger.current is not None
    assert 'autoreply_challenger_info{version="fake-2"} 1.0' in client.get("/metrics").text
    assert watch.check_challenger() is None and state.challenger.current is not None
    reload = client.post("/v1/admin/reload", json={"rules": True, "model": True}, headers=headers())
    assert reload.json()["challenger_version"] == "fake-2"
    shadow.unlink()
    assert watch.check_challenger() is None and state.challenger.current is None
    assert "autoreply_challenger_info{" not in client.get("/metrics").text


def test_workers_follow_an_admin_reload_another_worker_announced(make_client, book_copy, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    answering = make_client(reload_roots=[tmp_path], run_dir=run_dir)
    other = make_client(reload_roots=[tmp_path], run_dir=run_dir).app.state.autoreply
    root = book_copy(("rules/drivers.yaml", "driver_rating < 4.5", "driver_rating < 4.6"))
    body = {"rules": True, "model": False, "rulebook_dir": str(root)}
    reloaded = answering.post("/v1/admin/reload", json=body, headers=headers()).json()
    new = reloaded["rulebook_version"]
    assert other.rulebooks.current.version != new
    follow_reloads(other)
    assert other.rulebooks.current.version == new
    own = answering.app.state.autoreply
    before = own.rulebooks.current
    follow_reloads(own)  # its own announcement: not made twice
    assert own.rulebooks.current is before
    late = make_client(reload_roots=[tmp_path], run_dir=run_dir).app.state.autoreply
    follow_reloads(late)  # a worker started after the reload (a restart) makes it too
    assert late.rulebooks.current.version == new
