"""No token or key reads or writes outside its counties and role (DESIGN §7, §9).

The appraisal matrix: every route of the app (its own route table, checked
against `probes.APPRAISAL_ROUTES` so no route escapes) × every kind of caller ×
both counties. Allowed → 200 with data of readable counties only; denied →
401/403/404 (or the dashboard's sign-in redirect) without the other county's
data. The ingest matrix: every event type × county × source against scoped keys,
over HTTP into a real topic, and the ledger import likewise.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from appraisal.api.http import create_app as create_appraisal_app
from contracts import EVENT_TYPES, derive_event_id
from embedded.topics import TopicSpec, ensure_topics
from ingest.auth import ADMIN_EVENT_TYPES, FORBIDDEN_SCOPE
from ingest.http import create_app as create_ingest_app
from ingest.settings import Settings as IngestSettings
from tests.security.pipeline import (
    COUNTIES,
    HMAC_KEY,
    INGEST_KEYS,
    TOKENS,
    YEAR,
    A,
    B,
    County,
    Pipeline,
    bearer,
    county_event,
    read_all,
    xlsx_text,
)
from tests.security.probes import APPRAISAL_ROUTES, INGEST_ROUTES, Probe, RouteClass, routes_of

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "services" / "ingest" / "samples"

# Callers: the configured tokens, the same tokens kept in the dashboard cookie, no
# token and an unknown one.
CALLERS = [*TOKENS, "cookie:bureau-a", "cookie:association-a", "none", "bad"]


def _headers(who: str) -> dict[str, str]:
    if who == "none":
        return {}
    if who == "bad":
        return {"Authorization": "Bearer not-a-configured-token"}
    if who.startswith("cookie:"):
        return {"Cookie": f"appraisal_dashboard={TOKENS[who.split(':', 1)[1]][1]}"}
    return bearer(who)


def _readable(who: str) -> set[str]:
    """County codes the caller may read."""
    if who in ("none", "bad"):
        return set()
    role, _, counties = TOKENS[who.removeprefix("cookie:")]
    if role in ("auditor", "admin") or counties == "*":
        return {c.code for c in COUNTIES}
    return set(counties)


def _expected(rc: RouteClass, who: str, target: County) -> int:
    """The status the caller must get for the route about `target`'s data."""
    cookie = who.startswith("cookie:")
    if who == "none" or (cookie and rc.surface == "api"):
        # The API never reads the cookie; pages send a browser to sign in.
        return 303 if rc.surface == "page" else 401
    if who == "bad":
        return 401
    if rc.scope == "any_token":
        return 303 if "/open" in rc.build(target).url else 200
    role = TOKENS[who.removeprefix("cookie:")][0]
    if role == "association" and not rc.association:
        return 403
    if target.code not in _readable(who):
        # An advisor outside the caller's counties is as unknown as a missing one.
        return 404 if rc.scope == "advisor" else 403
    return 200


def _text(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("application/vnd.openxmlformats"):
        return xlsx_text(response.content)
    return response.text


def _matrix() -> Iterator[tuple[tuple[str, str], str, County]]:
    for route, rc in APPRAISAL_ROUTES.items():
        if rc.scope == "public":
            continue
        for who in CALLERS:
            if who.startswith("cookie:") and rc.surface == "api":
                continue
            for target in COUNTIES:
                yield route, who, target


MATRIX = list(_matrix())


def test_every_route_of_both_services_is_classified(pipeline: Pipeline) -> None:
    app = create_appraisal_app(pipeline.service, manage_lifecycle=False)
    assert routes_of(app) == sorted(APPRAISAL_ROUTES), (
        "a route was added or removed: classify it in tests/security/probes.py"
    )
    ingest = create_ingest_app(IngestSettings(api_keys='{"keys": []}', hmac_key=HMAC_KEY))
    assert routes_of(ingest) == sorted(INGEST_ROUTES)


async def _call(client: httpx.AsyncClient, probe: Probe, who: str) -> httpx.Response:
    return await client.request(
        probe.method, probe.url, json=probe.json, headers=_headers(who), follow_redirects=False
    )


async def test_the_appraisal_matrix(pipeline: Pipeline) -> None:
    started = time.perf_counter()
    failures: list[str] = []
    for route, who, target in MATRIX:
        rc = APPRAISAL_ROUTES[route]
        probe = rc.build(target)
        response = await _call(pipeline.appraisal, probe, who)
        expected = _expected(rc, who, target)
        text = _text(response)
        where = f"{probe.method} {probe.url} as {who}"
        if response.status_code != expected:
            failures.append(f"{where}: {response.status_code}, expected {expected}: {text[:200]}")
            continue
        if expected == 303:
            location = response.headers["location"]
            assert location.startswith("/dashboard/"), where
            if "/open" not in probe.url:
                assert location.startswith("/dashboard/login"), where
        readable = _readable(who) if expected == 200 else set()
        for county in COUNTIES:
            if county.code in readable:
                continue
            # Markers of an unreadable county, unless the caller wrote them in the URL.
            leaked = [m for m in (*county.markers, county.code) if m in text and m not in probe.url]
            if leaked:
                failures.append(f"{where}: {response.status_code} leaks {leaked}")
        if expected == 200 and route[1] in ("/v1/appraisals/{county_id}/{year}", "/dashboard/"):
            assert target.advisor_id in text or route[1] == "/dashboard/" or not readable, where
    print(f"\nappraisal matrix: {len(MATRIX)} calls in {time.perf_counter() - started:.1f} s")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("who", ["bureau-a", "association-a"])
async def test_the_dashboard_home_lists_only_the_callers_counties(
    pipeline: Pipeline, who: str
) -> None:
    response = await pipeline.appraisal.get("/dashboard/", headers=bearer(who))
    assert response.status_code == 200
    assert f"/dashboard/{A.code}/{YEAR}" in response.text
    assert B.code not in response.text


async def test_the_public_routes_carry_no_county_data(pipeline: Pipeline) -> None:
    for route, rc in APPRAISAL_ROUTES.items():
        if rc.scope != "public":
            continue
        probe = rc.build(A)
        response = await _call(pipeline.appraisal, probe, "none")
        assert response.status_code < 500, route
        for county in COUNTIES:
            assert not [m for m in county.markers if m in response.text], route


async def test_a_county_route_asked_about_another_countys_advisor_answers_nothing(
    pipeline: Pipeline,
) -> None:
    """Bureau A names its own county but B's advisor and village: empty, not B's data."""
    url = f"/v1/verdicts/{A.code}/{YEAR}/{B.advisor_id}/{B.village_id}"
    response = await pipeline.appraisal.get(url, headers=bearer("bureau-a"))
    assert response.status_code == 200
    assert response.json()["versions"] == []
    assert B.advisor_name not in response.text
    assert B.firm not in response.text


async def test_an_out_of_scope_advisor_looks_like_an_unknown_one(pipeline: Pipeline) -> None:
    """The 404 for B's advisor says nothing a missing advisor's 404 does not (no county)."""
    for path in ("/v1/advisors/{}/appraisals/2024", "/v1/advisors/{}/ledger/2024"):
        known = await pipeline.appraisal.get(path.format(B.advisor_id), headers=bearer("bureau-a"))
        unknown = await pipeline.appraisal.get(path.format("ADV-NOPE"), headers=bearer("bureau-a"))
        assert known.status_code == unknown.status_code == 404
        assert known.text.replace(B.advisor_id, "X") == unknown.text.replace("ADV-NOPE", "X")
        assert B.code not in known.text


# --- ingest ------------------------------------------------------------------------------


def _may_write(key: str, type_: str, county: str, source: str) -> bool:
    """The scope rule, restated from the keys file entry (DESIGN §3, §7)."""
    entry = INGEST_KEYS[key].entry
    sources = entry.get("sources") or [entry["name"]]
    admin = bool(entry.get("admin"))
    return (
        ("*" in entry["event_types"] or type_ in entry["event_types"])
        and (type_ not in ADMIN_EVENT_TYPES or admin)
        and ("*" in entry["counties"] or county in entry["counties"])
        and ("*" in sources or source in sources)
    )


@pytest.fixture
async def ingest_only(
    tmp_path: Path, kafka_bootstrap: str
) -> Any:  # an (httpx client, topic) pair; its events go to a topic nobody consumes
    topic = f"sec-ingest-{uuid.uuid4().hex[:12]}"
    await ensure_topics(
        kafka_bootstrap, [TopicSpec(topic, 3, ""), TopicSpec(topic + "-dlq", 1, "")]
    )
    settings = IngestSettings(
        api_keys=json.dumps({"keys": [k.entry for k in INGEST_KEYS.values()]}),
        hmac_key=HMAC_KEY,
        dedup_dsn=str(tmp_path / "dedup.sqlite"),
        idempotent_producer=False,
        kafka_bootstrap=kafka_bootstrap,
        topic=topic,
        dlq_topic=topic + "-dlq",
    )
    app = create_ingest_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ingest.test", timeout=60
        ) as client,
    ):
        yield client, topic


def _attempts(key: str) -> list[tuple[dict[str, Any], bool]]:
    """Every event type, for each county, with the key's own source and a foreign one."""
    entry = INGEST_KEYS[key].entry
    own = next(s for s in [*(entry.get("sources") or []), entry["name"]] if s != "*")
    attempts = []
    for type_ in EVENT_TYPES:
        for county in COUNTIES:
            for source in (own, "intruder-platform"):
                built = county_event(type_, county, source, f"{key}-{type_}-{source}")
                if type_ == "policy.published.v1":
                    built["county_id"] = county.code
                attempts.append((built, _may_write(key, type_, county.code, source)))
    return attempts


async def test_ingest_keys_write_only_their_types_counties_and_sources(
    ingest_only: Any, kafka_bootstrap: str
) -> None:
    client, topic = ingest_only
    allowed_ids: set[str] = set()
    total = 0
    for key in INGEST_KEYS:
        attempts = _attempts(key)
        total += len(attempts)
        response = await client.post(
            "/v1/events", json=[e for e, _ in attempts], headers=INGEST_KEYS[key].headers
        )
        assert response.status_code == 202, response.text
        for (built, allowed), result in zip(attempts, response.json()["events"], strict=True):
            where = f"{key}: {built['type']} {built['county_id']} {built['source']}"
            if allowed:
                assert result["status"] == "accepted", (where, result)
                allowed_ids.add(str(derive_event_id(built["source"], built["source_event_id"])))
            else:
                assert result["status"] == "rejected", where
                assert {r["code"] for r in result["reasons"]} == {FORBIDDEN_SCOPE}, (where, result)
    for who in ("none", "bad"):
        headers = _headers(who)
        refused = await client.post(
            "/v1/events", json=[e for e, _ in _attempts("a-admin")], headers=headers
        )
        assert refused.status_code == 401
        assert A.advisor_id not in refused.text
    published = await read_all(kafka_bootstrap, topic, 3)
    assert {json.loads(r.value)["event_id"] for r in published} == allowed_ids
    assert len(published) == len(allowed_ids)
    print(
        f"\ningest matrix: {total} events from {len(INGEST_KEYS)} keys, {len(allowed_ids)} allowed"
    )


@pytest.mark.parametrize(
    ("key", "source", "county", "allowed"),
    [
        ("a-ledger", "a-ledger", A.code, True),
        ("a-ledger", "a-ledger", B.code, False),  # another county
        ("a-ledger", "a-platform", A.code, False),  # another source
        ("a-ratings", "a-platform", A.code, False),  # not its event types
        ("b-platform", "b-platform", A.code, False),
        ("none", "a-ledger", A.code, False),
        ("bad", "a-ledger", A.code, False),
    ],
)
async def test_ledger_imports_obey_the_same_scopes(
    ingest_only: Any, kafka_bootstrap: str, key: str, source: str, county: str, allowed: bool
) -> None:
    client, topic = ingest_only
    headers = _headers(key) if key in ("none", "bad") else INGEST_KEYS[key].headers
    data = (SAMPLES / "ledger-sample.csv").read_bytes()
    response = await client.post(
        "/v1/ledgers",
        data={"source": source, "county": county},
        files={"file": ("ledger-sample.csv", data)},
        headers=headers,
    )
    if key in ("none", "bad"):
        assert response.status_code == 401
        return
    assert response.status_code == 202
    report = response.json()
    published = await read_all(kafka_bootstrap, topic, 3)
    if allowed:
        assert (report["accepted"], len(published)) == (13, 13)
        return
    assert report["accepted"] == 0
    assert published == []
    forbidden = [
        r for r in report["results"] if FORBIDDEN_SCOPE in {x["code"] for x in r["reasons"]}
    ]
    assert len(forbidden) == 13
