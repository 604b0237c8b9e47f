"""Domain errors and the one place that renders them in PostHog's `{type, code, detail, attr}` shape.

Below `routers/` nothing raises HTTPException: services raise these, the handlers here render them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.schemas.generated.identity import ErrorBody

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


_ERROR_STATUSES = {
    400: "Invalid input or malformed request",
    401: "Missing or invalid personal API key",
    403: "Missing scope, or no access to the project",
    404: "Not found (including objects of other projects)",
    405: "Method not allowed",
    413: "Request body too large",
    429: "Rate limited; see Retry-After",
    503: "A backing service is unavailable; see Retry-After",
}
# Documented on every route so clients (and schema-driven fuzzers) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "model": ErrorBody} for status, text in _ERROR_STATUSES.items()
}


def error_response(error: APIError) -> Response:
    return Response(
        orjson.dumps(error.body()),
        status_code=error.status_code,
        media_type="application/json",
        headers=error.headers,
    )


def _validation_attr(loc: tuple[int | str, ...]) -> str | None:
    # FastAPI prefixes locations with where the value came from; PostHog names the field only (and a
    # field may itself be called `query`, as in the /query endpoint's body).
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    return "__".join(str(part) for part in loc) or None


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


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Methods the documented routes accept at `path` (HEAD with GET, OPTIONS never)."""
    if not hasattr(app.state, "route_methods"):
        table = []
        for template, operations in app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\{[^/]+\\}", "[^/]+", re.escape(template))
            methods = sorted(m.upper() for m in operations)
            table.append((re.compile(f"^{pattern}/?$"), methods + (["HEAD"] if "GET" in methods else [])))
        # Literal segments first, as routing does: `/insights/funnel` is not `/insights/{id}`.
        app.state.route_methods = sorted(table, key=lambda entry: entry[0].pattern.count("[^/]+"))
    return next((methods for regex, methods in app.state.route_methods if regex.match(path)), [])


# SQLSTATEs that mean "the client's values can't be stored or compared", mapped to a 400 detail.
_BAD_INPUT_SQLSTATES = {
    "22021": "Text may not contain NUL characters or invalid byte sequences.",
    "22P05": "Text may not contain NUL characters or unpaired surrogates.",
    "22P02": "A value has an invalid format (JSON text may not contain NUL or unpaired surrogates).",
    "22003": "A value is out of range.",
    "22008": "A date or time is out of range.",
    "2201B": "Invalid regular expression.",
}


def _bad_input_detail(exc: BaseException) -> str | None:
    """Failures caused by the values a client sent (not by us): a 400, never a 500."""
    from sqlalchemy import exc as sa_errors

    if isinstance(exc, UnicodeEncodeError):
        return _BAD_INPUT_SQLSTATES["22P05"]
    if isinstance(exc, sa_errors.DBAPIError) and exc.orig is not None:
        driver_error = exc.orig.__cause__
        if isinstance(driver_error, UnicodeEncodeError):
            return _BAD_INPUT_SQLSTATES["22P05"]
        sqlstate = getattr(exc.orig, "pgcode", None) or getattr(driver_error, "sqlstate", None)
        return _BAD_INPUT_SQLSTATES.get(str(sqlstate))
    return None


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
            not_allowed = MethodNotAllowed(request.method)
            # RFC 9110: list every method the resource supports (Starlette names only one route's).
            not_allowed.headers = {"Allow": ", ".join(allowed_methods(request.app, request.url.path))}
            return error_response(not_allowed)
        error = APIError(str(exc.detail))
        error.status_code = exc.status_code
        error.type = "invalid_request"
        error.code = "error"
        return error_response(error)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:
        if (detail := _bad_input_detail(exc)) is not None:
            return error_response(ValidationError(detail))
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
