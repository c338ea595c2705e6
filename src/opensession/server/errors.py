"""Errors as the API returns them: ``{"code": "...", "message": "..."}`` with a 4xx/5xx status.

Under ``/api`` every error is that JSON; anywhere else (the web pages) the same error is an HTML
page with the same status, saying what went wrong and where to go next.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from opensession.server.web.templating import render_page


class ApiError(Exception):
    """A request the server refuses: an HTTP status, a stable code and a one-line message."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def response(self) -> JSONResponse:
        body = {"code": self.code, "message": self.message, **self.extra}
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


def bad_request(message: str, code: str = "bad_request", **extra: Any) -> ApiError:
    return ApiError(400, code, message, **extra)


def unauthorized(message: str = "sign in first: a bearer token or API key is required") -> ApiError:
    return ApiError(401, "unauthorized", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
}


def install_error_handlers(app: FastAPI) -> None:
    """Every error, ours or the framework's, answered in the one JSON shape under ``/api`` and
    as an HTML page elsewhere."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> Response:
        return _answer(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        return _answer(request, ApiError(400, "invalid_request", message))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = str(exc.detail)
        if exc.status_code == 404 and not _is_api(request):
            message = f"there is no page at {request.url.path}"
        return _answer(request, ApiError(exc.status_code, code, message), exc.headers)

    @app.exception_handler(Exception)
    async def server_error(request: Request, _: Exception) -> Response:
        # Starlette still raises the exception after this answer, so the server logs it.
        message = "the server failed to answer this request; the error is in its log"
        return _answer(request, ApiError(500, "internal_error", message))


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/")


def _answer(request: Request, exc: ApiError, headers: dict[str, str] | None = None) -> Response:
    """``exc`` as JSON under ``/api``, else as an HTML page; ``headers`` added to either."""
    if _is_api(request):
        response: Response = exc.response()
    else:
        response = render_page(
            request,
            request.app.state.context,
            "error.html",
            status_code=exc.status,
            status=exc.status,
            title=_phrase(exc.status),
            message=exc.message,
        )
        retry_after = exc.extra.get("retry_after")
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _phrase(status: int) -> str:
    """The status's reason phrase (``Not Found``), or ``Error`` for a status without one."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
