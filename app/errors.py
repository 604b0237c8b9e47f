"""Domain errors and the one place that renders them in PostHog's `{type, code, detail, attr}` shape.

Below `routers/` nothing raises HTTPException: services raise these, the handlers here render them.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class APIError(Exception):
    status_code = 400
    type = "validation_error"
    code = "invalid_input"
    default_detail = "Invalid input."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        attr: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.default_detail
        if code:
            self.code = code
        self.attr = attr
        self.headers = headers or {}
        super().__init__(self.detail)

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "code": self.code, "detail": self.detail, "attr": self.attr}


class ValidationError(APIError):
    pass


class ParseError(APIError):
    type = "invalid_request"
    code = "parse_error"
    default_detail = "Malformed request"


class NotAuthenticated(APIError):
    status_code = 401
    type = "authentication_error"
    code = "not_authenticated"
    default_detail = "Authentication credentials were not provided."


class AuthenticationFailed(APIError):
    status_code = 401
    type = "authentication_error"
    code = "authentication_failed"
    default_detail = "Incorrect authentication credentials."


class PermissionDenied(APIError):
    status_code = 403
    type = "authentication_error"
    code = "permission_denied"
    default_detail = "You do not have permission to perform this action."


class NotFound(APIError):
    status_code = 404
    type = "invalid_request"
    code = "not_found"
    default_detail = "Not found."


class MethodNotAllowed(APIError):
    status_code = 405
    type = "invalid_request"
    code = "method_not_allowed"

    def __init__(self, method: str) -> None:
        super().__init__(f'Method "{method}" not allowed.')


class Conflict(APIError):
    status_code = 409
    type = "invalid_request"
    code = "conflict"
    default_detail = "Conflict."


class PayloadTooLarge(APIError):
    status_code = 413
    type = "invalid_request"
    code = "payload_too_large"
    default_detail = "Request body is too large."


class Throttled(APIError):
    status_code = 429
    type = "throttled_error"
    code = "throttled"

    def __init__(self, wait_seconds: int) -> None:
        super().__init__(
            f"Request was throttled. Expected available in {wait_seconds} seconds.",
            headers={"Retry-After": str(wait_seconds)},
        )


class ServiceUnavailable(APIError):
    status_code = 503
    type = "server_error"
    code = "service_unavailable"
    default_detail = "A backing service is unavailable. Try again shortly."

    def __init__(self, detail: str | None = None, *, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


def error_response(error: APIError) -> Response:
    return Response(
        orjson.dumps(error.body()),
        status_code=error.status_code,
        media_type="application/json",
        headers=error.headers,
    )


def _validation_attr(loc: tuple[int | str, ...]) -> str | None:
    # FastAPI prefixes locations with where the value came from; PostHog names the field only.
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return "__".join(parts) or None


def _validation_detail(error: dict[str, Any]) -> str:
    if error.get("type") == "missing":
        return "This field is required."
    message = str(error.get("msg", "Invalid input."))
    return message.removeprefix("Value error, ")


def _is_unavailable(exc: BaseException) -> bool:
    """Connection-level failures of Postgres or Redis: the caller should retry, not see a 500."""
    from asyncpg import exceptions as pg_errors
    from redis import exceptions as redis_errors
    from sqlalchemy import exc as sa_errors

    if isinstance(exc, sa_errors.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa_errors.InterfaceError | sa_errors.OperationalError) and isinstance(
        exc.orig, OSError | pg_errors.CannotConnectNowError | pg_errors.ConnectionDoesNotExistError
    ):
        return True
    return isinstance(
        exc,
        OSError
        | ConnectionError
        | redis_errors.ConnectionError
        | redis_errors.TimeoutError
        | pg_errors.CannotConnectNowError
        | pg_errors.ConnectionDoesNotExistError
        | pg_errors.AdminShutdownError,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(_: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return error_response(ParseError("JSON parse error - " + str(first.get("msg", ""))))
        return error_response(
            ValidationError(
                _validation_detail(first), code=_code_for(first), attr=_validation_attr(first.get("loc", ()))
            )
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(NotFound())
        if exc.status_code == 405:
            return error_response(MethodNotAllowed(request.method))
        error = APIError(str(exc.detail))
        error.status_code = exc.status_code
        error.type = "invalid_request"
        error.code = "error"
        return error_response(error)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:
        if _is_unavailable(exc):
            logger.warning("backing service unavailable on %s %s: %r", request.method, request.url.path, exc)
            return error_response(ServiceUnavailable())
        logger.error("unhandled error on %s %s", request.method, request.url.path)
        error = APIError("A server error occurred.")
        error.status_code, error.type, error.code = 500, "server_error", "error"
        return error_response(error)


def _code_for(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    if kind == "missing":
        return "required"
    if kind in ("literal_error", "enum"):
        return "invalid_choice"
    if kind.endswith("too_long"):
        return "max_length"
    return "invalid_input"
