"""The county bureau dashboard: server-rendered pages and the downloadable county report.

Every page is built from `AppraisalQueries` answers (the read API's bodies) and
only formats them; nothing is counted or summed here. Pages are in Chinese
unless `?lang=en` asks for English; every link keeps the language. The
dashboard is served at /dashboard of the appraisal service's own host (links
and the cookie path assume it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from appraisal.api.auth import Principal
from appraisal.dashboard import charts
from appraisal.dashboard.formats import beijing_time, display, reason_value, yuan
from appraisal.dashboard.i18n import (
    AWARD_CATEGORIES,
    GRADES,
    INDICATOR_REQUIREMENTS,
    INDICATORS,
    SCORE_PARTS,
    VERDICTS,
    Lang,
    Translator,
)
from appraisal.dashboard.report import CountyReport, assignments_csv, county_report_xlsx
from appraisal.dashboard.session import (
    DASHBOARD,
    BadBearer,
    Credentials,
    SignInRequired,
    forget,
    remember,
    resolve,
    safe_next,
)
from appraisal.policy import AwardCategory
from appraisal.queries import NotFound
from appraisal.service import AppraisalService
from contracts.formats import ID_MAX, ID_PATTERN

HERE = Path(__file__).parent
STATIC_FILES = {"dashboard.css": "text/css; charset=utf-8"}

# Inline SVG charts carry <style> elements; nothing else is allowed, and no script at all.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CountyId = Annotated[str, PathParam(pattern=r"^[0-9]{6}$")]
Year = Annotated[int, PathParam(ge=2000, le=2100)]
AdvisorId = Annotated[str, PathParam(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["display"] = display
    env.filters["yuan"] = yuan
    env.filters["beijing_time"] = beijing_time
    env.globals.update(
        reason_value=reason_value,
        VERDICTS=VERDICTS,
        GRADES=GRADES,
        INDICATORS=INDICATORS,
        INDICATOR_REQUIREMENTS=INDICATOR_REQUIREMENTS,
        SCORE_PARTS=SCORE_PARTS,
        AWARD_CATEGORIES=AWARD_CATEGORIES,
    )
    return env


TEMPLATES = Jinja2Templates(env=_environment())


class Denied(Exception):
    """The caller's token may not read what the page shows (403)."""


@dataclass(frozen=True, slots=True)
class Page:
    """One request's view of the dashboard: who asks, in which language, and the service."""

    request: Request
    service: AppraisalService
    t: Translator
    principal: Principal | None

    def link(self, path: str, **params: Any) -> str:
        """A dashboard link that keeps the page language."""
        if self.t.lang is Lang.EN:
            params["lang"] = "en"
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return path + (f"?{query}" if query else "")

    def switch_url(self) -> str:
        other = Lang.ZH if self.t.lang is Lang.EN else Lang.EN
        url = self.request.url.include_query_params(lang=other.value)
        return url.path + f"?{url.query}"

    def county_scope(self, county_id: str) -> None:
        if self.principal is None or not self.principal.may_read_county(county_id):
            raise Denied

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        other = Lang.ZH if self.t.lang is Lang.EN else Lang.EN
        return TEMPLATES.TemplateResponse(
            self.request,
            template,
            {
                "t": self.t,
                "other_lang": other,
                "link": self.link,
                "switch_url": self.switch_url(),
                "principal": self.principal,
                "static": DASHBOARD + "static/dashboard.css",
                **context,
            },
            status_code=status,
            headers=SECURITY_HEADERS,
        )


def _service(request: Request) -> AppraisalService:
    service: AppraisalService = request.app.state.service
    return service


def _translator(request: Request) -> Translator:
    return Translator(Lang.of(request.query_params.get("lang")))


def _sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    page = Page(request, _service(request), _translator(request), None)
    response = RedirectResponse(page.link(DASHBOARD + "login", next=target), status_code=303)
    forget(response)
    return response


def _guarded(
    request: Request, build: Callable[[Page], Response], *, download: bool = False
) -> Response:
    """Resolve the caller, build the response, and turn refusals into pages.

    Without credentials a page sends the browser to sign in; a download does so
    only for a browser, and answers other clients 401 like the API.
    """
    t = _translator(request)
    service = _service(request)
    try:
        credentials: Credentials = resolve(request, service.tokens)
    except SignInRequired:
        if not download or "text/html" in request.headers.get("accept", ""):
            return _sign_in_redirect(request)
        return Response(
            "a valid bearer token or dashboard sign-in is required",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    except BadBearer:
        page = Page(request, service, t, None)
        response = page.render("error.html", 401, title=t("login_failed"), text="")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    page = Page(request, service, t, credentials.principal)
    try:
        return build(page)
    except Denied:
        return page.render("error.html", 403, title=t("forbidden_title"), text=t("forbidden_text"))
    except NotFound:
        return page.render("error.html", 404, title=t("not_found_title"), text=t("not_found_text"))


def _names(service: AppraisalService, county_id: str, year: int) -> dict[str, str]:
    return {
        row["advisor_id"]: row["name"]
        for row in service.views.advisor_years_of_county(county_id, year)
    }


def _county_report(service: AppraisalService, county_id: str, year: int) -> CountyReport:
    queries = service.queries
    awards = {}
    for category in AWARD_CATEGORIES:
        try:
            awards[category] = queries.awards(county_id, year, AwardCategory(category))
        except NotFound:
            continue
    return CountyReport(
        county=queries.county_appraisals(county_id, year),
        summary=queries.summary(county_id, year),
        names=_names(service, county_id, year),
        awards=awards,
    )


def _download(content: bytes, media_type: str, filename: str) -> Response:
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''"
        + quote(filename),
    }
    return Response(content, media_type=media_type, headers=headers)


def dashboard_router() -> APIRouter:
    """The dashboard's routes under /dashboard (include it in the appraisal app)."""
    router = APIRouter(prefix="/dashboard", include_in_schema=False)

    # Fixed paths first: `/{county_id}/{year}` would otherwise claim them.
    @router.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            return Response(status_code=404)
        return FileResponse(
            HERE / "static" / name,
            media_type=STATIC_FILES[name],
            headers={"Cache-Control": "max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @router.get("/login")
    def login_form(
        request: Request,
        next_: Annotated[str | None, Query(alias="next")] = None,
    ) -> Response:
        page = Page(request, _service(request), _translator(request), None)
        return page.render("login.html", next=safe_next(next_), failed=False)

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        token = str(form.get("token", "")).strip()
        target = safe_next(str(form.get("next", "")))
        lang = Lang.of(str(form.get("lang", "")))
        page = Page(request, _service(request), Translator(lang), None)
        if not token or page.service.tokens.lookup(token) is None:
            return page.render("login.html", 401, next=target, failed=True)
        if lang is Lang.EN and "lang=" not in target:
            target += ("&" if "?" in target else "?") + "lang=en"
        response = RedirectResponse(target, status_code=303)
        remember(response, request, token)
        return response

    @router.post("/logout")
    def logout(request: Request) -> Response:
        page = Page(request, _service(request), _translator(request), None)
        response = RedirectResponse(page.link(DASHBOARD + "login"), status_code=303)
        forget(response)
        return response

    @router.get("/")
    def home(request: Request) -> Response:
        def build(page: Page) -> Response:
            assert page.principal is not None
            counties = sorted(page.principal.counties or ())
            years = {c: page.service.views.county_year_keys(c) for c in counties}
            return page.render("home.html", counties=counties, years=years)

        return _guarded(request, build)

    @router.get("/open")
    def open_county(
        request: Request,
        county_id: Annotated[str, Query(pattern=r"^[0-9]{6}$")],
        year: Annotated[int, Query(ge=2000, le=2100)],
    ) -> Response:
        def build(page: Page) -> Response:
            return RedirectResponse(page.link(f"{DASHBOARD}{county_id}/{year}"), status_code=303)

        return _guarded(request, build)

    @router.get("/advisors/{advisor_id}/{year}")
    def advisor(request: Request, advisor_id: AdvisorId, year: Year) -> Response:
        def build(page: Page) -> Response:
            queries = page.service.queries
            county_id = queries.advisor_county(advisor_id)
            # Outside the caller's counties looks like unknown (as in the API).
            if (
                county_id is None
                or not page.principal
                or not page.principal.may_read_county(county_id)
            ):
                raise NotFound(advisor_id)
            body = queries.advisor_appraisals(advisor_id, year)
            ledgers = {a["village_id"]: a for a in queries.ledger(advisor_id, year)["assignments"]}
            sections = []
            for a in body["assignments"]:
                ledger = ledgers[a["village_id"]]
                sections.append(
                    {
                        "a": a,
                        "months": ledger["months"],
                        "requirement_hours": ledger["requirement_hours"],
                        "chart": charts.ledger_chart(
                            ledger["months"], ledger["requirement_hours"], page.t
                        ),
                        "versions": queries.verdict_history(
                            county_id, year, advisor_id, a["village_id"]
                        ),
                    }
                )
            return page.render(
                "advisor.html", body=body, county_id=county_id, year=year, sections=sections
            )

        return _guarded(request, build)

    @router.get("/{county_id}/{year}")
    def county(request: Request, county_id: CountyId, year: Year) -> Response:
        def build(page: Page) -> Response:
            page.county_scope(county_id)
            queries = page.service.queries
            summary = queries.summary(county_id, year)
            return page.render(
                "county.html",
                county_id=county_id,
                year=year,
                county=queries.county_appraisals(county_id, year),
                summary=summary,
                names=_names(page.service, county_id, year),
                years=page.service.views.county_year_keys(county_id),
                chart=charts.score_distribution_chart(summary, page.t),
            )

        return _guarded(request, build)

    @router.get("/{county_id}/{year}/awards/{category}")
    def awards(request: Request, county_id: CountyId, year: Year, category: str) -> Response:
        def build(page: Page) -> Response:
            page.county_scope(county_id)
            if category not in AWARD_CATEGORIES:
                raise NotFound(category)
            shortlist = page.service.queries.awards(county_id, year, AwardCategory(category))
            return page.render(
                "awards.html",
                county_id=county_id,
                year=year,
                category=category,
                shortlist=shortlist,
                names=_names(page.service, county_id, year),
            )

        return _guarded(request, build)

    @router.get("/{county_id}/{year}/report.xlsx")
    def report_xlsx(request: Request, county_id: CountyId, year: Year) -> Response:
        def build(page: Page) -> Response:
            page.county_scope(county_id)
            content = county_report_xlsx(_county_report(page.service, county_id, year), page.t)
            return _download(content, XLSX, f"county-report-{county_id}-{year}.xlsx")

        return _guarded(request, build, download=True)

    @router.get("/{county_id}/{year}/report.csv")
    def report_csv(request: Request, county_id: CountyId, year: Year) -> Response:
        def build(page: Page) -> Response:
            page.county_scope(county_id)
            content = assignments_csv(_county_report(page.service, county_id, year), page.t)
            return _download(
                content, "text/csv; charset=utf-8", f"county-assignments-{county_id}-{year}.csv"
            )

        return _guarded(request, build, download=True)

    return router
