"""Console sign-in: an API key with the `console` scope becomes a signed session cookie; every
POST form carries a CSRF token derived from that session.

The cookie holds the key's SHA-256 (how keys are configured), never the key, and is checked
against the configured keys on every request: removing a key or its scope ends its sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request

from service.settings import Settings

COOKIE = "autoreply_console"
LOGIN_COOKIE = "autoreply_console_login"  # the login form's own CSRF token (no session yet)
SCOPE = "console"


class LoginRequired(Exception):
    """The request has no valid console session (or its key lost the console scope)."""


class CsrfRefused(Exception):
    """A POST form came without the token of this session."""


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in agent: the key's digest, its scopes now, and this session's id."""

    key_hash: str
    scopes: tuple[str, ...]
    sid: str

    @property
    def agent_id(self) -> str:
        """Return the id feedback records for this agent: a prefix of the key's digest."""
        return f"key:{self.key_hash[:12]}"


@dataclass(frozen=True)
class Signer:
    """Signs and checks the console's cookies and tokens with one secret."""

    secret: bytes
    lifetime_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer:
        """Return the signer of AUTOREPLY_CONSOLE_SECRET, or of a random per-process secret."""
        secret = settings.console_secret
        key = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
        return cls(key, settings.console_session_hours * 3600)

    def _mac(self, payload: bytes) -> str:
        return hmac.new(self.secret, payload, hashlib.sha256).hexdigest()

    def session_cookie(self, key_hash: str) -> str:
        """Return a new session's cookie value: the payload and its signature."""
        payload = json.dumps(
            {"kh": key_hash, "sid": secrets.token_hex(16), "exp": time.time() + self.lifetime_s}
        ).encode()
        return base64.urlsafe_b64encode(payload).decode() + "." + self._mac(payload)

    def read_session(self, cookie: str | None, settings: Settings) -> ConsoleSession | None:
        """Return the session a cookie holds if it is signed, current and its key has the scope."""
        if not cookie or "." not in cookie:
            return None
        encoded, mac = cookie.rsplit(".", 1)
        try:
            payload = base64.urlsafe_b64decode(encoded.encode())
        except ValueError:
            return None
        if not hmac.compare_digest(self._mac(payload), mac):
            return None
        data = json.loads(payload)
        scopes = settings.api_keys.get(data["kh"])
        if data["exp"] < time.time() or scopes is None or SCOPE not in scopes:
            return None
        return ConsoleSession(data["kh"], tuple(scopes), data["sid"])

    def csrf_token(self, sid: str) -> str:
        """Return the CSRF token every POST form of this session carries."""
        return self._mac(f"csrf|{sid}".encode())


async def read_form(request: Request) -> dict[str, str]:
    """Return an url-encoded form's fields (the last value of each); the body is already bounded."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True, max_num_fields=64))


def current_session(request: Request) -> ConsoleSession:
    """Return the signed-in agent, or raise LoginRequired."""
    state = request.app.state
    session = state.console.signer.read_session(
        request.cookies.get(COOKIE), state.autoreply.settings
    )
    if session is None:
        raise LoginRequired
    return session


def check_csrf(signer: Signer, session: ConsoleSession, form: dict[str, str]) -> None:
    """Raise CsrfRefused unless the form carries this session's token."""
    if not hmac.compare_digest(form.get("csrf", ""), signer.csrf_token(session.sid)):
        raise CsrfRefused
