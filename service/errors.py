"""The service's error tree; `service.main` maps each class to an HTTP answer in one place."""

from __future__ import annotations

import logging
import traceback

log = logging.getLogger("autoreply")


def log_unexpected(exc: BaseException, where: str) -> None:
    """Log an unexpected error by class and stack only: messages may quote tickets or SQL values."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unexpected %s on %s\n%s", type(exc).__name__, where, stack)


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, details: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidTicket(ServiceError):
    """The request is well-formed JSON but its content cannot be used (e.g. unknown facts)."""

    status = 422
    code = "invalid_ticket"


class NotFound(ServiceError):
    """The thing asked for does not exist."""

    status = 404
    code = "not_found"


class Unauthorized(ServiceError):
    """No API key, or an unknown one."""

    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    """The API key lacks the scope this route needs."""

    status = 403
    code = "forbidden"


class RateLimited(ServiceError):
    """Too many requests for this key in the current minute."""

    status = 429
    code = "rate_limited"


class Overloaded(ServiceError):
    """Too many requests in flight; the client should retry later."""

    status = 503
    code = "overloaded"


class DatabaseUnavailable(ServiceError):
    """The database cannot be reached or dropped the connection; nothing was answered unrecorded."""

    status = 503
    code = "database_unavailable"


class BodyTooLarge(ServiceError):
    """The request body is over the configured limit (AUTOREPLY_MAX_BODY_BYTES)."""

    status = 413
    code = "body_too_large"


class ModelUnavailable(ServiceError):
    """No model bundle is loaded, so no topic can be predicted."""

    status = 503
    code = "model_unavailable"


class ReloadRefused(ServiceError):
    """A new rulebook or model failed validation; the old one keeps serving."""

    status = 409
    code = "reload_refused"


class Conflict(ServiceError):
    """The request conflicts with what is recorded (e.g. feedback for an unknown decision)."""

    status = 409
    code = "conflict"
