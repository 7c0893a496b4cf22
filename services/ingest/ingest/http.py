"""The HTTP API of the ingest service (FastAPI): routes and the app factory.

Handlers only translate HTTP to the use case (``ingest.service``) and back;
every whole-request refusal is an :class:`ApiError`-shaped JSON body
``{"error": {"code", "message", "limit"}}``.
"""

# No ``from __future__ import annotations``: FastAPI reads the route signatures at
# runtime, and they name the per-app ``authenticated`` dependency, a local.
import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as AsgiScope

from http_limits import DEFAULT_LIMITS, BodyLimitError, HttpLimits, RequestBodyGuard
from ingest import openapi
from ingest.auth import KeyRing, Scope
from ingest.bodies import BodyError, RawEvent, split_body
from ingest.dedup import SeenStore, StoreUnavailableError, seen_store_for
from ingest.ledger import MappedRow, events_of, map_ledger
from ingest.ledger_files import LedgerFileError, read_ledger
from ingest.metrics import IngestMetrics
from ingest.pseudonymise import pseudonymiser_from_settings
from ingest.publish import EventPublisher, KafkaPublisher
from ingest.reports import (
    ErrorBody,
    ErrorDetail,
    IngestReport,
    LedgerReport,
    ingest_report,
    ledger_report,
)
from ingest.service import IngestService, ServiceUnavailableError, utc_now
from ingest.settings import ConfigurationError, Settings

API_TITLE: Final = "Advisor appraisal — ingest API (数据接入)"
API_VERSION: Final = "1.0.0"
_PRUNE_EVERY_S: Final = 3600.0
_FORM_OVERHEAD_BYTES: Final = 64 * 1024
_SOURCE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_COUNTY: Final = re.compile(r"^[0-9]{6}$")
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class ApiError(Exception):
    """A refusal of the whole request."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        limit: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorBody(error=ErrorDetail(code=code, message=message, limit=limit))
        self.headers = headers or {}


def _error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(
        error.body.model_dump(mode="json"), status_code=error.status, headers=error.headers
    )


def _json(status: int, report: IngestReport | LedgerReport) -> Response:
    return Response(report.model_dump_json(), status_code=status, media_type="application/json")


@dataclass(frozen=True)
class Components:
    """Everything the routes use; built once per app."""

    settings: Settings
    keyring: KeyRing
    service: IngestService
    publisher: EventPublisher
    seen_store: SeenStore
    metrics: IngestMetrics
    log: logging.Logger


_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    401: {"model": ErrorBody, "description": "Missing or unknown API key."},
    413: {"model": ErrorBody, "description": "Too many events or bytes; `limit` says how many."},
    503: {
        "model": ErrorBody,
        "description": (
            "Kafka (or the seen-event store) did not confirm in time: nothing of the request "
            "was accepted. Retry after `Retry-After` seconds; the retry is safe."
        ),
    },
}


def create_app(
    settings: Settings,
    *,
    publisher: EventPublisher | None = None,
    seen_store: SeenStore | None = None,
    clock: Callable[[], datetime] = utc_now,
    limits: HttpLimits = DEFAULT_LIMITS,
) -> FastAPI:
    """The ingest app; its lifespan connects Kafka and the seen-event store.

    Raises :class:`ConfigurationError` for settings production must not run
    with (no HMAC key, no API keys). ``publisher``/``seen_store`` replace the
    real ones in unit tests; ``limits`` bounds how long a body may take.
    """
    log = logging.getLogger("ingest")
    keyring = KeyRing.from_settings(settings)
    if settings.production and not len(keyring):
        raise ConfigurationError(
            "no API keys configured (INGEST_API_KEYS_FILE or INGEST_API_KEYS): production "
            "mode refuses to start a service nobody may write to"
        )
    metrics = IngestMetrics()
    publisher = publisher if publisher is not None else KafkaPublisher(settings, metrics, log)
    store = seen_store if seen_store is not None else seen_store_for(settings.dedup_dsn)
    service = IngestService(
        publisher=publisher,
        seen_store=store,
        pseudonymise=pseudonymiser_from_settings(settings, log),
        metrics=metrics,
        log=log,
        publish_timeout_s=settings.publish_timeout_s,
        retention=timedelta(days=settings.dedup_retention_days),
        clock=clock,
    )
    parts = Components(settings, keyring, service, publisher, store, metrics, log)
    app = FastAPI(
        title=API_TITLE,
        version=API_VERSION,
        description=openapi.DESCRIPTION,
        lifespan=_lifespan(parts),
    )
    app.add_middleware(_RequestMetrics, metrics=metrics)
    # A backstop for every route (the routes check their own, lower, limits first): also
    # bounds a chunked multipart upload, which the form parser would otherwise spool whole.
    app.add_middleware(
        RequestBodyGuard,
        max_body_bytes=settings.max_bytes + _FORM_OVERHEAD_BYTES,
        body_timeout_s=limits.body_timeout_s,
    )
    _install_error_handlers(app, parts)
    _install_routes(app, parts)
    openapi.install(app)
    return app


def _lifespan(
    parts: Components,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await parts.seen_store.open()
        await _prune(parts)
        await parts.publisher.start()
        pruner = asyncio.create_task(_prune_forever(parts))
        try:
            yield
        finally:
            pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pruner
            await parts.publisher.stop()
            await parts.seen_store.close()

    return lifespan


async def _prune(parts: Components) -> None:
    try:
        pruned = await parts.service.prune()
    except StoreUnavailableError as error:
        parts.log.warning("could not prune the seen-event store: %s", error)
        return
    if pruned:
        parts.log.info("forgot %d event ids older than the retention window", pruned)


async def _prune_forever(parts: Components) -> None:
    while True:
        await asyncio.sleep(_PRUNE_EVERY_S)
        await _prune(parts)


def _install_error_handlers(app: FastAPI, parts: Components) -> None:
    retry_after = str(parts.settings.retry_after_s)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, error: ApiError) -> JSONResponse:
        return _error_response(error)

    @app.exception_handler(BodyError)
    async def body_error(_request: Request, error: BodyError) -> JSONResponse:
        return _error_response(ApiError(error.status, error.code, error.message, limit=error.limit))

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, error: HTTPException) -> JSONResponse:
        # Routing (404, 405) and the form parser (400: too many fields, bad multipart)
        # refuse in FastAPI's {"detail"} shape; the document promises ours.
        try:
            code = HTTPStatus(error.status_code).phrase.lower().replace(" ", "_")
        except ValueError:
            code = "http_error"
        headers = dict(error.headers or {})
        return _error_response(ApiError(error.status_code, code, error.detail, headers=headers))

    @app.exception_handler(BodyLimitError)
    async def body_limit(_request: Request, error: BodyLimitError) -> JSONResponse:
        headers = dict(error.headers or {})
        return _error_response(
            ApiError(
                error.status_code, error.code, error.detail, limit=error.limit, headers=headers
            )
        )

    @app.exception_handler(LedgerFileError)
    async def ledger_error(_request: Request, error: LedgerFileError) -> JSONResponse:
        return _error_response(ApiError(error.status, error.code, str(error)))

    @app.exception_handler(ServiceUnavailableError)
    async def unavailable(_request: Request, error: ServiceUnavailableError) -> JSONResponse:
        parts.log.warning("answering 503: %s", error)
        return _error_response(
            ApiError(
                503,
                f"{error.dependency}_unavailable",
                f"{error}; nothing of this request was accepted, retry later",
                headers={"Retry-After": retry_after},
            )
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the input back; ours names the parameter only.
        where = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
        return _error_response(ApiError(422, "invalid_request", f"invalid parameter(s): {where}"))


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API key>`")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: <API key>`")


def _authenticator(parts: Components) -> Callable[..., Any]:
    async def authenticated(
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
        api_key: Annotated[str | None, Security(_api_key)],
    ) -> Scope:
        presented = bearer.credentials if bearer is not None else api_key
        scope = parts.keyring.authenticate(presented)
        if scope is None:
            parts.metrics.auth_failures.inc()
            raise ApiError(
                401,
                "unauthorized",
                "missing or unknown API key: send Authorization: Bearer <key> or X-API-Key: <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return scope

    return authenticated


async def _read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise ApiError(415, "unsupported_encoding", "send the body without Content-Encoding")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int) -> ApiError:
    # Close the connection: the rest of the body is not read, and the client stops sending.
    return ApiError(
        413,
        "body_too_large",
        f"the body may be at most {max_bytes} bytes",
        limit=max_bytes,
        headers={"Connection": "close"},
    )


def _media_type(request: Request) -> str | None:
    header = request.headers.get("content-type")
    return header.split(";", 1)[0].strip().lower() if header else None


def _install_routes(app: FastAPI, parts: Components) -> None:
    settings = parts.settings
    authenticated = _authenticator(parts)

    @app.post(
        "/v1/events",
        status_code=202,
        summary="Submit events (JSON array or NDJSON)",
        response_model=IngestReport,
        responses={**_ERRORS, 400: {"model": ErrorBody}, 415: {"model": ErrorBody}},
        openapi_extra=openapi.events_request_body(settings.max_events),
        tags=["events"],
    )
    async def post_events(
        request: Request, scope: Annotated[Scope, Depends(authenticated)]
    ) -> Response:
        """Check every event, publish the valid new ones, and report each in input order.

        202 once Kafka acknowledged every accepted event. One bad event does not
        affect the others.
        """
        body = await _read_body(request, settings.max_bytes)
        raws = await asyncio.to_thread(split_body, body, _media_type(request), settings.max_events)
        results = await parts.service.ingest(raws, scope)
        return _json(202, ingest_report(results))

    @app.post(
        "/v1/ledgers",
        status_code=202,
        summary="Import a township ledger (CSV or XLSX)",
        response_model=LedgerReport,
        responses={**_ERRORS, 400: {"model": ErrorBody}},
        openapi_extra=openapi.LEDGER_REQUEST_BODY,
        tags=["ledgers"],
    )
    async def post_ledger(
        request: Request, scope: Annotated[Scope, Depends(authenticated)]
    ) -> Response:
        """Map a 工作台账 to events (docs/ingest.md) and ingest them; report every row."""
        declared = request.headers.get("content-length")
        limit = settings.max_bytes + _FORM_OVERHEAD_BYTES
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(settings.max_bytes)
        file, source, county = await _ledger_form(request)
        data = await file.read(settings.max_bytes + 1)
        if len(data) > settings.max_bytes:
            raise _too_large(settings.max_bytes)
        ledger = _LedgerUpload(data, file.filename or "", source, county)
        return _json(202, await ledger.ingest(parts, scope))

    @app.get("/healthz", summary="Liveness: the process answers", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Always ``ok`` while the process runs."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        summary="Readiness: the broker answers",
        tags=["operations"],
        responses={503: {"description": "The broker does not answer."}},
    )
    async def readyz() -> JSONResponse:
        """200 when Kafka answers a probe (cached for ``INGEST_READINESS_CACHE_S``), else 503."""
        if await parts.publisher.ready():
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "unavailable", "broker": "unreachable"}, status_code=503)

    @app.get(
        "/metrics",
        summary="Prometheus metrics",
        tags=["operations"],
        response_class=PlainTextResponse,
    )
    async def metrics() -> Response:
        """The service's metrics in the Prometheus text format."""
        return Response(generate_latest(parts.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@dataclass(frozen=True)
class _LedgerUpload:
    data: bytes
    filename: str
    source: str
    county: str

    def rows(self, max_rows: int) -> tuple[list[MappedRow], list[str]]:
        sheet = read_ledger(self.data, self.filename, max_rows)
        return map_ledger(sheet, source=self.source, county=self.county), sheet.ignored_columns

    async def ingest(self, parts: Components, scope: Scope) -> LedgerReport:
        """Map the rows (in a thread: CPU work), ingest their events, report every row."""
        rows, ignored = await asyncio.to_thread(self.rows, parts.settings.max_events)
        raws = [RawEvent(value=event) for event in events_of(rows)]
        results = await parts.service.ingest(raws, scope) if raws else []
        report = ledger_report(rows, ingest_report(results).events, ignored)
        for status in ("accepted", "duplicate", "rejected"):
            parts.metrics.ledger_rows.labels(status).inc(getattr(report, status))
        return report


async def _ledger_form(request: Request) -> tuple[UploadFile, str, str]:
    form = await request.form(max_files=1, max_fields=8)
    file = form.get("file")
    source = form.get("source")
    county = form.get("county")
    if not isinstance(file, UploadFile):
        raise ApiError(400, "missing_file", "send the ledger as the multipart field 'file'")
    if not isinstance(source, str) or not _SOURCE.fullmatch(source):
        raise ApiError(
            400, "invalid_source", "'source' must be letters, digits, '.', '_' or '-' (≤ 64)"
        )
    if not isinstance(county, str) or not _COUNTY.fullmatch(county):
        raise ApiError(400, "invalid_county", "'county' must be the 6-digit county code")
    return file, source, county


class _RequestMetrics:
    """Times every request, labelled by route template (bounded), method and status."""

    def __init__(self, app: ASGIApp, metrics: IngestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.request_duration.labels(template, method, str(status)).observe(
                time.perf_counter() - started
            )
