"""HTTP API of the appraisal service: read API v1 (DESIGN §7.1) and the auditors' views.

Every route checks the bearer token: 401 without a known token, 403 outside the
token's counties or role. Answers come from `AppraisalQueries`; routes only
translate HTTP to queries and back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, Final

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AwareDatetime

from appraisal.api.auth import Principal, Role
from appraisal.api.coalesce import SharedRead
from appraisal.dashboard import dashboard_router
from appraisal.documents import JsonDocument, from_cache
from appraisal.policy import AwardCategory, PolicyDocument
from appraisal.queries import NotFound
from appraisal.service import AppraisalService
from contracts.formats import ID_MAX, ID_PATTERN
from http_limits import DEFAULT_LIMITS, HttpLimits, RequestBodyGuard

MAX_BODY_BYTES: Final = 1024 * 1024
"""Largest request body (a what-if policy draft is a few KB; the dashboard login less)."""
MAX_OFFSET: Final = 1_000_000_000
"""Largest page offset: more rows than any county has, and an integer every database takes."""

CountyId = Annotated[str, Path(pattern=r"^[0-9]{6}$", description="6-digit county code.")]
Year = Annotated[int, Path(ge=2000, le=2100, description="Appraisal year.")]
# The contract's id rule: an id no event can carry (a NUL, say, which PostgreSQL refuses
# to compare) is a 422 here, not an error in the store.
AdvisorId = Annotated[
    str, Path(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN, description="Advisor id.")
]
VillageId = Annotated[
    str, Path(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN, description="Village id.")
]
AsOf = Annotated[
    AwareDatetime | None,
    Query(description="RFC 3339 time with offset: the answer as it stood then."),
]


async def principal(request: Request) -> Principal:
    """The token's holder; 401 when the token is missing or unknown.

    `async` although it does no I/O: a plain function would cost every request a hop
    to the thread pool and back.
    """
    service: AppraisalService = request.app.state.service
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    found = service.tokens.lookup(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise HTTPException(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})
    return found


Caller = Annotated[Principal, Depends(principal)]


def create_app(
    service: AppraisalService,
    *,
    manage_lifecycle: bool = True,
    limits: HttpLimits = DEFAULT_LIMITS,
) -> FastAPI:
    """The ASGI app; with `manage_lifecycle` its lifespan starts and stops the service.

    `limits` bounds how long a request body may take (docs/reliability.md, "Limits").
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await service.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await service.stop()

    app = FastAPI(
        title="Village legal advisor appraisal — read API",
        version="1.0.0",
        description=(
            "Appraisals of village legal advisors (一村一法律顾问考核), award shortlists, "
            "verdict history and what-if evaluation. Bearer token required on every /v1 route."
        ),
        lifespan=lifespan,
    )

    app.state.service = service
    app.add_middleware(
        RequestBodyGuard,
        max_body_bytes=MAX_BODY_BYTES,
        body_timeout_s=limits.body_timeout_s,
    )
    app.include_router(dashboard_router())

    def county_scope(caller: Principal, county_id: str) -> None:
        if not caller.may_read_county(county_id):
            raise HTTPException(403, f"token {caller.name!r} may not read county {county_id}")

    def check_advisor_scope(caller: Principal, advisor_id: str, county: str | None) -> None:
        if county is None or not caller.may_read_county(county):
            # Outside the token's counties looks like unknown: a 403 would tell which
            # county the advisor is filed under, and that the advisor exists.
            raise HTTPException(404, f"no advisor {advisor_id}")

    async def advisor_scope(caller: Principal, advisor_id: str) -> None:
        # A store read: in a thread, so an unreachable store cannot stall the event loop.
        county = await asyncio.to_thread(service.queries.advisor_county, advisor_id)
        check_advisor_scope(caller, advisor_id, county)

    # Every cached answer is valid for one projection position: concurrent requests
    # share a read of it, each served by one that began after it arrived.
    position = SharedRead(lambda: service.queries.position())

    async def run(fn: Callable[[], Any]) -> Any:
        try:
            return await asyncio.to_thread(fn)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc

    async def send(request: Request, fn: Callable[[], JsonDocument]) -> Response:
        """A ready answer as it is (no re-encoding), or 304 when the caller holds it.

        Served on the event loop when all of it is cached; built in a thread if not."""
        try:
            document = from_cache(fn)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        if document is None:
            document = await run(fn)
        headers = {"ETag": document.etag, "Cache-Control": "private, no-cache"}
        if document.matches(request.headers.get("if-none-match")):
            return Response(status_code=304, headers=headers)
        return Response(document.body, media_type="application/json", headers=headers)

    @app.get(
        "/v1/appraisals/{county_id}/{year}", tags=["read API v1"], response_model=dict[str, Any]
    )
    async def county_appraisals(
        county_id: CountyId,
        year: Year,
        caller: Caller,
        request: Request,
        as_of: AsOf = None,
        offset: Annotated[
            int | None,
            Query(ge=0, le=MAX_OFFSET, description="Page: skip this many assignments."),
        ] = None,
        limit: Annotated[
            int | None, Query(ge=1, le=1000, description="Page: at most this many assignments.")
        ] = None,
    ) -> Any:
        """Every assignment of a county-year (provisional until the year is closed).

        Without `as_of` the answer carries an `ETag`; `If-None-Match` with it answers 304
        while nothing changed. With `offset` or `limit` (default 0 and 100) the answer is
        one page, by advisor and village, and adds `total`, `offset` and `limit`; without
        them every assignment is listed (a county of 3,000 is ~10 MB).
        """
        county_scope(caller, county_id)
        if offset is not None or limit is not None:
            start, size = offset or 0, limit or 100
            if as_of is None:
                at = await position()
                return await send(
                    request,
                    lambda: service.queries.county_appraisals_page_document(
                        county_id, year, start, size, at
                    ),
                )
            return await run(
                lambda: service.queries.county_appraisals_page(county_id, year, as_of, start, size)
            )
        if as_of is None:
            at = await position()
            return await send(
                request, lambda: service.queries.county_appraisals_document(county_id, year, at)
            )
        return await run(lambda: service.queries.county_appraisals(county_id, year, as_of))

    @app.get(
        "/v1/advisors/{advisor_id}/appraisals/{year}",
        tags=["read API v1"],
        response_model=dict[str, Any],
    )
    async def advisor_appraisals(
        advisor_id: AdvisorId, year: Year, caller: Caller, request: Request, as_of: AsOf = None
    ) -> Any:
        """An advisor's year: advisor score, award eligibility, every assignment."""
        if as_of is None:
            at = await position()

            def scoped_document() -> JsonDocument:
                # The county for the token check and the answer together, cached under
                # the projection's position (one statement on a miss).
                county, document = service.queries.advisor_answer(advisor_id, year, at)
                check_advisor_scope(caller, advisor_id, county)
                if document is None:
                    raise NotFound(f"no appraisal of advisor {advisor_id} for {year}")
                return document

            return await send(request, scoped_document)
        await advisor_scope(caller, advisor_id)
        return await run(lambda: service.queries.advisor_appraisals(advisor_id, year, as_of))

    @app.get(
        "/v1/awards/{county_id}/{year}/{category}",
        tags=["read API v1"],
        response_model=dict[str, Any],
    )
    async def awards(
        county_id: CountyId,
        year: Year,
        category: AwardCategory,
        caller: Caller,
        request: Request,
        as_of: AsOf = None,
    ) -> Any:
        """The award shortlist of a category (社会责任贡献奖 / 公益爱心奖) with exclusions."""
        county_scope(caller, county_id)
        if as_of is None:
            at = await position()
            return await send(
                request, lambda: service.queries.awards_document(county_id, year, category, at)
            )
        return await run(lambda: service.queries.awards(county_id, year, category, as_of))

    @app.get(
        "/v1/counties/{county_id}/{year}/summary", tags=["county"], response_model=dict[str, Any]
    )
    async def summary(county_id: CountyId, year: Year, caller: Caller, request: Request) -> Any:
        """Counts by verdict and grade, score distribution, subsidy total, coverage gaps."""
        county_scope(caller, county_id)
        at = await position()
        return await send(request, lambda: service.queries.summary_document(county_id, year, at))

    @app.get("/v1/advisors/{advisor_id}/ledger/{year}", tags=["county"])
    async def ledger(advisor_id: AdvisorId, year: Year, caller: Caller) -> dict[str, Any]:
        """The monthly ledger of each assignment: on-site hours, credit, compliance."""
        await advisor_scope(caller, advisor_id)
        return await run(lambda: service.queries.ledger(advisor_id, year))  # type: ignore[no-any-return]

    @app.get("/v1/verdicts/{county_id}/{year}/{advisor_id}/{village_id}", tags=["county"])
    async def verdict_history(
        county_id: CountyId,
        year: Year,
        advisor_id: AdvisorId,
        village_id: VillageId,
        caller: Caller,
    ) -> dict[str, Any]:
        """Every issued and amended version of an assignment's verdict, oldest first."""
        county_scope(caller, county_id)
        versions = await run(
            lambda: service.queries.verdict_history(county_id, year, advisor_id, village_id)
        )
        return {"county_id": county_id, "year": year, "advisor_id": advisor_id,
                "village_id": village_id, "versions": versions}  # fmt: skip

    @app.post("/v1/what-if/{county_id}/{year}", tags=["county"])
    async def what_if(
        county_id: CountyId, year: Year, draft: PolicyDocument, caller: Caller
    ) -> dict[str, Any]:
        """How every verdict of the county-year would change under a draft policy.

        Evaluates the recorded history; publishes and stores nothing.
        """
        county_scope(caller, county_id)
        if caller.role is Role.ASSOCIATION:
            raise HTTPException(403, "what-if is for bureaus, auditors and admins")
        return await run(lambda: service.queries.what_if(county_id, year, draft))  # type: ignore[no-any-return]

    @app.get("/v1/advisors/{advisor_id}/history", tags=["audit"])
    async def history(
        advisor_id: AdvisorId,
        caller: Caller,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """The advisor's recorded events in store order, paged (auditors, admins, bureaus)."""
        if not caller.reads_history:
            raise HTTPException(403, "associations do not read raw history")
        await advisor_scope(caller, advisor_id)
        return await run(  # type: ignore[no-any-return]
            lambda: service.queries.history(
                advisor_id, offset=offset, limit=limit, with_comments=caller.sees_citizen_comments
            )
        )

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        reason = await service.unready_reason()
        if reason is None:
            return JSONResponse({"ready": True})
        return JSONResponse({"ready": False, "reason": reason}, status_code=503)

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics() -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
