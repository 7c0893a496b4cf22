"""Every route of both services, classified by what guards it, with a concrete request.

The tables below are checked against the apps' own route tables
(`routes_of`), so a route added without a row here fails the tenancy matrix
instead of escaping it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI
from starlette.routing import BaseRoute

from tests.security.pipeline import YEAR, County

Scope = Literal["public", "county", "advisor", "any_token"]
Surface = Literal["api", "page", "download", "other"]


@dataclass(frozen=True)
class Probe:
    method: str
    url: str
    json: Any = None


@dataclass(frozen=True)
class RouteClass:
    """How a route is guarded and how to call it about one county."""

    scope: Scope
    surface: Surface
    build: Callable[[County], Probe]
    association: bool = True  # may an association token use it (within its counties)?


def routes_of(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app serves, included routers too (no HEAD)."""

    def walk(routes: list[BaseRoute]) -> Iterator[tuple[str, str]]:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes)
                continue
            path = getattr(route, "path", None)
            assert path is not None, f"cannot classify route {route!r}"
            for method in sorted(getattr(route, "methods", None) or {"GET"}):
                if method != "HEAD":
                    yield method, path

    return sorted(set(walk(app.routes)))


def _get(url: str) -> Callable[[County], Probe]:
    return lambda c: Probe("GET", url.format(c=c, y=YEAR))


APPRAISAL_ROUTES: dict[tuple[str, str], RouteClass] = {
    # FastAPI's own documentation and the operations routes: no data, no token.
    ("GET", "/openapi.json"): RouteClass("public", "other", _get("/openapi.json")),
    ("GET", "/docs"): RouteClass("public", "other", _get("/docs")),
    ("GET", "/docs/oauth2-redirect"): RouteClass("public", "other", _get("/docs/oauth2-redirect")),
    ("GET", "/redoc"): RouteClass("public", "other", _get("/redoc")),
    ("GET", "/healthz"): RouteClass("public", "other", _get("/healthz")),
    ("GET", "/readyz"): RouteClass("public", "other", _get("/readyz")),
    ("GET", "/metrics"): RouteClass("public", "other", _get("/metrics")),
    # Read API v1 and the county routes.
    ("GET", "/v1/appraisals/{county_id}/{year}"): RouteClass(
        "county", "api", _get("/v1/appraisals/{c.code}/{y}")
    ),
    ("GET", "/v1/advisors/{advisor_id}/appraisals/{year}"): RouteClass(
        "advisor", "api", _get("/v1/advisors/{c.advisor_id}/appraisals/{y}")
    ),
    ("GET", "/v1/awards/{county_id}/{year}/{category}"): RouteClass(
        "county", "api", _get("/v1/awards/{c.code}/{y}/social_responsibility")
    ),
    ("GET", "/v1/counties/{county_id}/{year}/summary"): RouteClass(
        "county", "api", _get("/v1/counties/{c.code}/{y}/summary")
    ),
    ("GET", "/v1/advisors/{advisor_id}/ledger/{year}"): RouteClass(
        "advisor", "api", _get("/v1/advisors/{c.advisor_id}/ledger/{y}")
    ),
    ("GET", "/v1/verdicts/{county_id}/{year}/{advisor_id}/{village_id}"): RouteClass(
        "county", "api", _get("/v1/verdicts/{c.code}/{y}/{c.advisor_id}/{c.village_id}")
    ),
    ("POST", "/v1/what-if/{county_id}/{year}"): RouteClass(
        "county",
        "api",
        lambda c: Probe("POST", f"/v1/what-if/{c.code}/{YEAR}", json={}),
        association=False,
    ),
    ("GET", "/v1/advisors/{advisor_id}/history"): RouteClass(
        "advisor", "api", _get("/v1/advisors/{c.advisor_id}/history"), association=False
    ),
    # The dashboard: the sign-in pages and the stylesheet are public.
    ("GET", "/dashboard/static/{name}"): RouteClass(
        "public", "other", _get("/dashboard/static/dashboard.css")
    ),
    ("GET", "/dashboard/login"): RouteClass("public", "other", _get("/dashboard/login")),
    ("POST", "/dashboard/login"): RouteClass(
        "public", "other", lambda c: Probe("POST", "/dashboard/login")
    ),
    ("POST", "/dashboard/logout"): RouteClass(
        "public", "other", lambda c: Probe("POST", "/dashboard/logout")
    ),
    ("GET", "/dashboard/"): RouteClass("any_token", "page", _get("/dashboard/")),
    ("GET", "/dashboard/open"): RouteClass(
        "any_token", "page", _get("/dashboard/open?county_id={c.code}&year={y}")
    ),
    ("GET", "/dashboard/advisors/{advisor_id}/{year}"): RouteClass(
        "advisor", "page", _get("/dashboard/advisors/{c.advisor_id}/{y}")
    ),
    ("GET", "/dashboard/{county_id}/{year}"): RouteClass(
        "county", "page", _get("/dashboard/{c.code}/{y}")
    ),
    ("GET", "/dashboard/{county_id}/{year}/awards/{category}"): RouteClass(
        "county", "page", _get("/dashboard/{c.code}/{y}/awards/public_welfare")
    ),
    ("GET", "/dashboard/{county_id}/{year}/report.xlsx"): RouteClass(
        "county", "download", _get("/dashboard/{c.code}/{y}/report.xlsx")
    ),
    ("GET", "/dashboard/{county_id}/{year}/report.csv"): RouteClass(
        "county", "download", _get("/dashboard/{c.code}/{y}/report.csv")
    ),
}

INGEST_ROUTES: dict[tuple[str, str], Scope] = {
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("GET", "/docs/oauth2-redirect"): "public",
    ("GET", "/redoc"): "public",
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "public",
    ("POST", "/v1/events"): "county",
    ("POST", "/v1/ledgers"): "county",
}
