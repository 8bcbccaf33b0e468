"""The console in a real browser: Debian's headless Chromium driven by Playwright against the app
served by uvicorn on a free port (the keyword classifier stands in for the model)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.console.conftest import HANDOFF_TEXT, seed_handoffs
from tests.console.test_agent import feedback_rows
from tests.service.conftest import KEYS, headers
from tests.service.test_api import ticket

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="scripts/setup.sh installs chromium")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(make_client, tmp_path) -> Iterator[tuple[str, object]]:
    """The app served over HTTP in a thread; yields its URL and a test client of the same app."""
    client = make_client(reload_roots=[tmp_path])
    server = uvicorn.Server(
        uvicorn.Config(client.app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}", client
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, served, tmp_path) -> Iterator[object]:
    """A fresh browser page; fails the test on any JavaScript console error or page error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
    assert errors == [], errors


def sign_in_by_keyboard(page, url: str, key: str = KEYS["all"]) -> None:
    page.goto(f"{url}/console/queue")
    assert "/console/login" in page.url
    page.wait_for_function("document.activeElement.name === 'api_key'")  # focused for typing
    page.keyboard.type(key)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/queue")


def open_first_ticket(page, url: str) -> None:
    """Sign in and open the queue's first ticket, by keyboard."""
    sign_in_by_keyboard(page, url)
    page.keyboard.press("Enter")
    page.wait_for_selector("#act-form")


def test_an_agent_clears_a_queue_of_twenty_by_keyboard_alone(served, page, tmp_path):
    url, client = served
    seed_handoffs(client, 20)
    sign_in_by_keyboard(page, url)
    page.screenshot(path=tmp_path / "queue.png", full_page=True)
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert "T-q018" in page.locator("tr.current").inner_text()  # J, J, K: the second row
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    for done in range(20):
        page.wait_for_selector("#act-form")
        if done == 0:
            page.screenshot(path=tmp_path / "ticket.png", full_page=True)
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        page.wait_for_load_state("load")
    page.wait_for_url("**/console/queue**")
    assert "Nothing to do here." in page.content()
    rows = feedback_rows(client)
    assert len(rows) == 20 and {r.ticket_id for r in rows} == {f"T-q{i:03d}" for i in range(20)}
    assert all(r.template_id and not r.edited and r.decision_id for r in rows)


def test_edit_and_send(served, page):
    url, client = served
    seed_handoffs(client, 1)
    open_first_ticket(page, url)
    page.keyboard.press("e")
    page.keyboard.press("Control+End")
    page.keyboard.type(" We also refunded the difference.")
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/console/queue**")
    (row,) = feedback_rows(client)
    assert row.edited and row.final_text.endswith("We also refunded the difference.")


def test_a_double_submit_sends_once(served, page):
    url, client = served
    seed_handoffs(client, 2)
    open_first_ticket(page, url)
    page.locator("#send").dblclick()
    page.wait_for_selector("text=Done: ticket")
    assert len(feedback_rows(client)) == 1
    # Past the page's own guard: the same form posted twice by hand still records once.
    page.wait_for_selector("#act-form")
    posted = page.evaluate(
        """async () => {
            const form = document.getElementById("act-form");
            const body = new URLSearchParams(new FormData(form));
            body.set("action", "send");
            const to = form.getAttribute("action");  // form.action: the buttons named so
            const send = () => fetch(to, {method: "POST", body, redirect: "manual"});
            const answers = await Promise.all([send(), send()]);
            return answers.map(a => a.type);
        }"""
    )
    assert posted == ["opaqueredirect", "opaqueredirect"]
    assert len(feedback_rows(client)) == 2  # one for each ticket


def test_a_script_in_a_ticket_renders_as_text(served, page):
    url, client = served
    hostile = "<script>window.pwned = 1</script><img src=x onerror=window.pwned=2>"
    client.post(
        "/v1/autoreply",
        json=ticket(id="T-xss", text=f"{HANDOFF_TEXT} {hostile}"),
        headers=headers(),
    )
    sign_in_by_keyboard(page, url)
    page.keyboard.press("Enter")
    page.wait_for_selector("#message")
    assert hostile in page.locator("#message").inner_text()
    assert page.evaluate("window.pwned") is None
    assert page.locator("#message script, #message img").count() == 0


def test_without_a_session_the_console_is_refused(served, page):
    url, client = served
    seed_handoffs(client, 1)
    page.goto(f"{url}/console/queue")
    assert "/console/login" in page.url and "T-q000" not in page.content()
    decision = (
        client.app.state.autoreply.sessions()
        .execute(__import__("sqlalchemy").text("SELECT id FROM decisions"))
        .scalar_one()
    )
    answer = page.request.post(
        f"{url}/console/decisions/{decision}/act", form={"choice": "x"}, max_redirects=0
    )
    assert answer.status == 401 and feedback_rows(client) == []


def test_a_screenshot_of_each_page(served, page, book_copy, tmp_path):
    url, client = served
    other = book_copy(
        ("rules/riders_ride_cost.yaml", "coupon_use_value = 100", "coupon_use_value = 200")
    )
    client.post("/v1/autoreply", json=ticket(id="T-promo"), headers=headers())
    seed_handoffs(client, 3)
    page.goto(f"{url}/console/login")
    page.screenshot(path=tmp_path / "login.png")
    sign_in_by_keyboard(page, url)
    shots = {
        "queue": "/console/queue",
        "ops": "/console/ops",
        "compare": f"/console/ops/compare?directory={other}",
    }
    for name, path in shots.items():
        page.goto(url + path)
        page.screenshot(path=tmp_path / f"{name}.png", full_page=True)
    page.goto(f"{url}/console/queue")
    page.keyboard.press("Enter")
    page.wait_for_selector("#message")
    page.screenshot(path=tmp_path / "ticket.png", full_page=True)
    for name in ("login", "queue", "ops", "compare", "ticket"):
        assert (tmp_path / f"{name}.png").stat().st_size > 5_000, name
