"""Who may open the console: API-key sign-in, the console scope, signed cookies, CSRF, headers."""

from __future__ import annotations

import pytest

from service.console.auth import COOKIE
from tests.console.conftest import decision_links, hidden_fields, sign_in


@pytest.mark.parametrize(
    "path", ["/console/queue", "/console/ops", "/console/ops/compare", "/console/decisions/abc"]
)
def test_pages_without_a_session_send_to_sign_in(console, path):
    console.cookies.clear()
    answer = console.get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")


def test_a_post_without_a_session_is_refused_and_records_nothing(console):
    decision = decision_links(console.get("/console/queue").text)[0]
    console.cookies.clear()
    answer = console.post(f"/console/decisions/{decision}/act", data={"choice": "x"})
    assert answer.status_code == 401 and "Sign in" in answer.text


def test_an_api_key_header_is_no_console_session(make_client):
    client = make_client()
    answer = client.get("/console/queue", headers={"X-API-Key": "dev-key-change-me"})
    assert answer.history and answer.url.path == "/console/login"


def test_sign_in_needs_a_known_key_with_the_console_scope(make_client):
    client = make_client()
    token = hidden_fields(client.get("/console/login").text)["csrf"]
    for key, status in (("nope", 401), ("agent-key", 403)):
        answer = client.post("/console/login", data={"csrf": token, "api_key": key})
        assert answer.status_code == status and COOKIE not in client.cookies
        token = hidden_fields(answer.text)["csrf"]
    sign_in(client, "console")
    assert client.get("/console/queue").status_code == 200


def test_sign_in_without_its_form_token_is_refused(make_client):
    client = make_client()
    answer = client.post("/console/login", data={"csrf": "x", "api_key": "dev-key-change-me"})
    assert answer.status_code == 403 and COOKIE not in client.cookies


def test_the_session_cookie_is_httponly_strict_and_scoped_to_the_console(make_client):
    client = make_client()
    token = hidden_fields(client.get("/console/login").text)["csrf"]
    answer = client.post(
        "/console/login",
        data={"csrf": token, "api_key": "dev-key-change-me"},
        follow_redirects=False,
    )
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    assert "dev-key-change-me" not in answer.headers["set-cookie"]


def test_a_tampered_cookie_is_no_session(console):
    value = console.cookies[COOKIE]
    console.cookies.clear()
    console.cookies.set(COOKIE, value)
    assert console.get("/console/queue", follow_redirects=False).status_code == 200
    console.cookies.clear()
    console.cookies.set(COOKIE, value[:-4] + "0000")
    assert console.get("/console/queue", follow_redirects=False).status_code == 303


def test_a_key_that_loses_the_scope_loses_its_sessions(console):
    settings = console.app.state.autoreply.settings
    for scopes in settings.api_keys.values():
        if "console" in scopes:
            scopes.remove("console")
    assert console.get("/console/queue", follow_redirects=False).status_code == 303


def test_sign_out_needs_the_form_token_and_ends_the_session(console):
    assert console.post("/console/logout", data={}).status_code == 403
    token = hidden_fields(console.get("/console/queue").text)["csrf"]
    console.post("/console/logout", data={"csrf": token})
    assert console.get("/console/queue", follow_redirects=False).status_code == 303


def test_every_page_forbids_inline_scripts(console):
    decision = decision_links(console.get("/console/queue").text)[0]
    for path in ("/console/queue", f"/console/decisions/{decision}", "/console/ops"):
        policy = console.get(path).headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "<script>" not in console.get(path).text  # scripts come as files only


def test_the_console_is_not_in_the_api_schema(console):
    assert not [p for p in console.get("/openapi.json").json()["paths"] if "console" in p]
