"""One Settings object, read from the environment (prefix AUTOREPLY_); unsafe production setups are refused at boot."""

from __future__ import annotations

import hashlib
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rules.rulebook import DEFAULT_ROOT

# The well-known key of the embedded development setup; refused when environment=production.
DEV_API_KEY = "dev-key-change-me"
SCOPES = ("suggest", "autoreply", "feedback", "admin", "console")


class LineMode(StrEnum):
    """Per support line: never answer, decide and record without sending, or answer."""

    OFF = "off"
    SHADOW = "shadow"
    ON = "on"


def available_cores() -> int:
    """Return the cores this process may run on (its CPU affinity, else the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def hash_key(key: str) -> str:
    """Return the SHA-256 hex digest under which an API key is configured and compared."""
    return hashlib.sha256(key.encode()).hexdigest()


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="AUTOREPLY_", env_file=None, extra="ignore")

    environment: str = Field("development", description="development | test | production")
    database_url: str = "sqlite:///var/autoreply.db"
    redis_url: str | None = Field(
        None, description="redis://host:port/db; unset: in-process cache and locks"
    )
    rulebook_dir: Path = DEFAULT_ROOT
    bundle_dir: Path = Path("var/bundles/current")
    bundle_watch_s: float = Field(
        0.0, ge=0, description="Seconds between checks of where bundle_dir points (0: never)"
    )
    challenger: str = Field(
        "shadow",
        description="The challenger bundle scored in shadow beside the champion (nothing it "
        "decides is sent): a bundle directory, or a name beside bundle_dir (a registry version, "
        "or the `shadow` pointer `autoreply bundles shadow` writes); `off`: none",
    )
    shadow_queue: int = Field(
        256,
        ge=0,
        description="Shadow scorings waiting for the challenger; past it they are skipped",
    )
    backend: str = "onnx-int8"
    workers: int = Field(
        1,
        ge=1,
        description="Worker processes of `autoreply serve`, each with its own model; the ONNX "
        "threads and lanes of each are sized to its share of the cores",
    )
    run_dir: Path | None = Field(
        None,
        description="Set by `autoreply serve` for its worker processes: the start's directory "
        "where they share metrics and admin reloads",
    )
    inference_threads: int | None = Field(
        None, ge=1, description="Threads of a lone inference; unset: the worker's share of cores"
    )
    inference_lanes: int | None = Field(
        None,
        ge=1,
        description="Concurrent inferences (ONNX backends): alone on every core, together one "
        "core each; unset: the worker's share of cores; torch backends always run one at a time",
    )
    # API keys: {"<sha256 of the key>": ["suggest", "autoreply", ...]}. The default admits the
    # development key with every scope.
    api_keys: dict[str, list[str]] = Field(
        default_factory=lambda: {hash_key(DEV_API_KEY): list(SCOPES)}
    )
    line_modes: dict[str, LineMode] = Field(
        default_factory=lambda: {"riders": LineMode.ON, "drivers": LineMode.ON}
    )
    suggestions: int = Field(3, ge=1, le=10)
    min_margin: float | None = Field(
        None, ge=0, le=1, description="Override the bundle's margin policy"
    )
    promo_cap: int = Field(3, ge=1, description="Promo codes per customer per window")
    promo_window_days: int = Field(30, ge=1)
    cache_size: int = Field(10_000, ge=0, description="In-process prediction cache entries")
    cache_ttl_s: int = Field(24 * 3600, ge=1)
    lock_ttl_s: float = Field(30.0, gt=0, description="Longest wait for a ticket's lock")
    lock_lease_s: float = Field(
        0.75, gt=0, description="A Redis lock's lease, renewed while held; a dead holder's lapses"
    )
    rate_limit_per_minute: int = Field(6000, ge=1, description="Requests per API key per minute")
    max_inflight: int = Field(64, ge=1, description="Requests served at once (a hard cap)")
    max_queued: int = Field(
        64, ge=0, description="Requests waiting for a slot; any more get 503 after queue_wait_s"
    )
    queue_wait_s: float = Field(
        1.0,
        ge=0,
        description="Longest wait for a slot, or for an inference lane, before 503 + Retry-After",
    )
    queue_target_ms: float = Field(
        50.0,
        ge=0,
        description="Shed by queue time: once no request has waited less than this for an "
        "inference lane during a whole queue_interval_ms, newcomers that would wait longer get "
        "503 + Retry-After and queued ones give up after this long; 0 turns it off",
    )
    queue_interval_ms: float = Field(
        100.0, gt=0, description="How long the lanes' queue must stand over the target"
    )
    record_queue: int = Field(
        10_000,
        ge=1,
        description="Suggest records waiting for their batch commit; past it suggest gets 503",
    )
    record_shutdown_s: float = Field(
        10.0, ge=0, description="How long a clean shutdown retries committing suggest records"
    )
    record_linger_ms: float = Field(
        20.0,
        ge=0,
        le=5_000,
        description="How long suggest records gather before their batch commit (a kill -9 loses "
        "up to this much); longer: fewer commits beside the inferences, a lone request faster",
    )
    max_text_chars: int = Field(10_000, ge=100)
    reload_roots: list[Path] = Field(
        default_factory=list,
        description="Directories an admin reload may read from; empty: the parents of "
        "rulebook_dir and bundle_dir",
    )
    max_body_bytes: int = Field(
        64 * 1024, ge=1024, description="Request bodies over this size are refused with 413"
    )
    console_secret: SecretStr | None = Field(
        None,
        description="Signs the agent console's session cookies and CSRF tokens (32+ characters); "
        "unset: a random one per process, so sessions end at restart",
    )
    console_session_hours: float = Field(
        10.0, gt=0, le=24 * 7, description="How long a console login lasts"
    )

    @field_validator("console_secret")
    @classmethod
    def _long_secret(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is None or not secret.get_secret_value():
            return None  # an empty variable (compose's default) is unset
        if len(secret.get_secret_value()) < 32:
            raise ValueError("console_secret: at least 32 characters")
        return secret

    @field_validator("api_keys")
    @classmethod
    def _known_scopes(cls, keys: dict[str, list[str]]) -> dict[str, list[str]]:
        for digest, scopes in keys.items():
            unknown = set(scopes) - set(SCOPES)
            if unknown or len(digest) != 64:
                raise ValueError(
                    f"api_keys: each entry is sha256-hex -> scopes from {SCOPES}; got {digest[:8]}.. {sorted(unknown)}"
                )
        return keys

    @model_validator(mode="after")
    def _default_reload_roots(self) -> Settings:
        if not self.reload_roots:
            self.reload_roots = [self.rulebook_dir.parent, self.bundle_dir.parent]
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment == "production":
            problems = []
            if hash_key(DEV_API_KEY) in self.api_keys:
                problems.append("the development API key is configured")
            if self.database_url.startswith("sqlite"):
                problems.append("SQLite is the embedded default; production needs PostgreSQL")
            console = any("console" in scopes for scopes in self.api_keys.values())
            if console and self.console_secret is None:
                # Replicas must agree on it, and a restart must not log every agent out.
                problems.append("a key has the console scope but CONSOLE_SECRET is unset")
            if problems:
                raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    def worker_cores(self) -> int:
        """Return the cores each worker process may use: its share of those this process may."""
        return max(1, available_cores() // self.workers)

    def public(self) -> dict[str, Any]:
        """Return the settings safe to show (no keys, no credentials in URLs)."""
        data = self.model_dump(exclude={"api_keys", "console_secret"})
        for name in ("database_url", "redis_url"):
            if data.get(name) and "@" in data[name]:
                scheme, rest = data[name].split("://", 1)
                data[name] = f"{scheme}://***@{rest.split('@', 1)[1]}"
        return {k: str(v) if isinstance(v, Path) else v for k, v in data.items()}
