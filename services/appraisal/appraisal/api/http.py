"""HTTP API of the appraisal service: read API v1 (DESIGN §7.1) and the auditors' views.

Every route checks the bearer token: 401 without a known token, 403 outside the
token's counties or role. Answers come from `AppraisalQueries`; routes only
translate HTTP to queries and back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AwareDatetime

from appraisal.api.auth import Principal, Role
from appraisal.dashboard import dashboard_router
from appraisal.policy import AwardCategory, PolicyDocument
from appraisal.queries import NotFound
from appraisal.service import AppraisalService

CountyId = Annotated[str, Path(pattern=r"^[0-9]{6}$", description="6-digit county code.")]
Year = Annotated[int, Path(ge=2000, le=2100, description="Appraisal year.")]
AdvisorId = Annotated[str, Path(min_length=1, max_length=128, description="Advisor id.")]
VillageId = Annotated[str, Path(min_length=1, max_length=128, description="Village id.")]
AsOf = Annotated[
    AwareDatetime | None,
    Query(description="RFC 3339 time with offset: the answer as it stood then."),
]


def principal(request: Request) -> Principal:
    """The token's holder; 401 when the token is missing or unknown."""
    service: AppraisalService = request.app.state.service
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    found = service.tokens.lookup(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise HTTPException(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})
    return found


Caller = Annotated[Principal, Depends(principal)]


def create_app(service: AppraisalService, *, manage_lifecycle: bool = True) -> FastAPI:
    """The ASGI app; with `manage_lifecycle` its lifespan starts and stops the service."""

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
    app.include_router(dashboard_router())

    def county_scope(caller: Principal, county_id: str) -> None:
        if not caller.may_read_county(county_id):
            raise HTTPException(403, f"token {caller.name!r} may not read county {county_id}")

    def advisor_scope(caller: Principal, advisor_id: str) -> None:
        county = service.queries.advisor_county(advisor_id)
        if county is None:
            raise HTTPException(404, f"no advisor {advisor_id}")
        county_scope(caller, county)

    async def run(fn: Callable[[], Any]) -> Any:
        import asyncio

        try:
            return await asyncio.to_thread(fn)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc

    @app.get("/v1/appraisals/{county_id}/{year}", tags=["read API v1"])
    async def county_appraisals(
        county_id: CountyId, year: Year, caller: Caller, as_of: AsOf = None
    ) -> dict[str, Any]:
        """Every assignment of a county-year (provisional until the year is closed)."""
        county_scope(caller, county_id)
        return await run(lambda: service.queries.county_appraisals(county_id, year, as_of))  # type: ignore[no-any-return]

    @app.get("/v1/advisors/{advisor_id}/appraisals/{year}", tags=["read API v1"])
    async def advisor_appraisals(
        advisor_id: AdvisorId, year: Year, caller: Caller, as_of: AsOf = None
    ) -> dict[str, Any]:
        """An advisor's year: advisor score, award eligibility, every assignment."""
        advisor_scope(caller, advisor_id)
        return await run(lambda: service.queries.advisor_appraisals(advisor_id, year, as_of))  # type: ignore[no-any-return]

    @app.get("/v1/awards/{county_id}/{year}/{category}", tags=["read API v1"])
    async def awards(
        county_id: CountyId,
        year: Year,
        category: AwardCategory,
        caller: Caller,
        as_of: AsOf = None,
    ) -> dict[str, Any]:
        """The award shortlist of a category (社会责任贡献奖 / 公益爱心奖) with exclusions."""
        county_scope(caller, county_id)
        return await run(lambda: service.queries.awards(county_id, year, category, as_of))  # type: ignore[no-any-return]

    @app.get("/v1/counties/{county_id}/{year}/summary", tags=["county"])
    async def summary(county_id: CountyId, year: Year, caller: Caller) -> dict[str, Any]:
        """Counts by verdict and grade, score distribution, subsidy total, coverage gaps."""
        county_scope(caller, county_id)
        return await run(lambda: service.queries.summary(county_id, year))  # type: ignore[no-any-return]

    @app.get("/v1/advisors/{advisor_id}/ledger/{year}", tags=["county"])
    async def ledger(advisor_id: AdvisorId, year: Year, caller: Caller) -> dict[str, Any]:
        """The monthly ledger of each assignment: on-site hours, credit, compliance."""
        advisor_scope(caller, advisor_id)
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
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        """The advisor's recorded events in store order, paged (auditors, admins, bureaus)."""
        if not caller.reads_history:
            raise HTTPException(403, "associations do not read raw history")
        advisor_scope(caller, advisor_id)
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
        ready = await service.ready()
        return JSONResponse({"ready": ready}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"])
    async def metrics() -> Response:
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
