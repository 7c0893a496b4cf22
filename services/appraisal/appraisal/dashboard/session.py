"""Who is looking at a dashboard page: the bearer token, or the token kept in a cookie.

The browser keeps the token the bureau user pasted at sign-in in an HttpOnly,
SameSite=Strict cookie; every request looks it up in the service's
`TokenRegistry`, so a page obeys exactly the API's rules and a revoked token
stops working at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from appraisal.api.auth import Principal, TokenRegistry

COOKIE = "appraisal_dashboard"
COOKIE_PATH = "/dashboard"
SESSION_SECONDS = 8 * 3600
DASHBOARD = "/dashboard/"


class SignInRequired(Exception):
    """No valid token in a cookie; the browser is sent to the sign-in page."""


class BadBearer(Exception):
    """An `Authorization` header was sent with a missing or unknown token (401)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    principal: Principal
    from_cookie: bool


def resolve(request: Request, tokens: TokenRegistry) -> Credentials:
    """The caller; a bearer header wins over the cookie, as for API clients."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        found = tokens.lookup(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise BadBearer
        return Credentials(found, from_cookie=False)
    kept = request.cookies.get(COOKIE)
    found = tokens.lookup(kept) if kept else None
    if found is None:
        raise SignInRequired
    return Credentials(found, from_cookie=True)


def remember(response: Response, request: Request, token: str) -> None:
    """Keep the token in the browser, out of reach of scripts and other sites."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def forget(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a dashboard path of this site, never another site."""
    if not target:
        return DASHBOARD
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return DASHBOARD
    if not parts.path.startswith(DASHBOARD) or parts.path.startswith(DASHBOARD + "login"):
        return DASHBOARD
    return parts.path + (f"?{parts.query}" if parts.query else "")
