"""Browser sign-in: the same tokens as the API, kept in a locked-down cookie."""

from __future__ import annotations

import json

import pytest
from starlette.requests import Request
from starlette.responses import Response

from appraisal.api.auth import Role, TokenRegistry, hash_token
from appraisal.dashboard.session import (
    COOKIE,
    BadBearer,
    SignInRequired,
    forget,
    remember,
    resolve,
    safe_next,
)

pytestmark = pytest.mark.unit

TOKENS = TokenRegistry.from_json(
    json.dumps(
        [{"name": "番禺", "role": "bureau", "counties": ["440113"], "sha256": hash_token("b")}]
    )
)


def _request(headers: dict[str, str] | None = None, scheme: str = "http") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "scheme": scheme,
        "server": ("dashboard.example", 443 if scheme == "https" else 80),
        "headers": raw,
        "path": "/dashboard/",
        "query_string": b"",
    }
    return Request(scope)


def test_the_cookie_resolves_to_the_apis_principal() -> None:
    credentials = resolve(_request({"cookie": f"{COOKIE}=b"}), TOKENS)
    assert credentials.from_cookie
    assert credentials.principal.role is Role.BUREAU
    assert credentials.principal.counties == frozenset({"440113"})


def test_a_bearer_header_wins_and_a_bad_one_is_refused() -> None:
    assert not resolve(_request({"authorization": "Bearer b"}), TOKENS).from_cookie
    with pytest.raises(BadBearer):
        resolve(_request({"authorization": "Bearer nope", "cookie": f"{COOKIE}=b"}), TOKENS)


@pytest.mark.parametrize("cookie", [None, f"{COOKIE}=", f"{COOKIE}=unknown"])
def test_without_a_known_cookie_the_browser_must_sign_in(cookie: str | None) -> None:
    with pytest.raises(SignInRequired):
        resolve(_request({"cookie": cookie} if cookie else None), TOKENS)


@pytest.mark.parametrize(("scheme", "secure"), [("http", False), ("https", True)])
def test_the_cookie_is_httponly_strict_and_secure_over_https(scheme: str, secure: bool) -> None:
    response = Response()
    remember(response, _request(scheme=scheme), "b")
    header = response.headers["set-cookie"]
    assert header.startswith(f"{COOKIE}=b;")
    assert "HttpOnly" in header
    assert "SameSite=strict" in header
    assert "Path=/dashboard" in header
    assert ("Secure" in header) is secure
    cleared = Response()
    forget(cleared)
    assert "Max-Age=0" in cleared.headers["set-cookie"]


@pytest.mark.parametrize(
    ("target", "goes_to"),
    [
        (None, "/dashboard/"),
        ("/dashboard/440115/2024", "/dashboard/440115/2024"),
        ("/dashboard/440115/2024?lang=en", "/dashboard/440115/2024?lang=en"),
        ("https://evil.example/dashboard/", "/dashboard/"),
        ("//evil.example/dashboard/", "/dashboard/"),
        ("/\\evil.example", "/dashboard/"),
        ("/v1/appraisals/440115/2024", "/dashboard/"),
        ("/dashboard/login?next=/dashboard/", "/dashboard/"),
    ],
)
def test_after_sign_in_only_dashboard_paths_of_this_site_are_followed(
    target: str | None, goes_to: str
) -> None:
    assert safe_next(target) == goes_to
