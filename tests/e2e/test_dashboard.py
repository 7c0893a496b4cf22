"""The county bureau dashboard in headless Chromium against a running service.

Every number a page shows is compared with the read API's answer for the same
county; the downloaded reports are opened and compared the same way. A
screenshot of each page is saved (to docs/screenshots/ with UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from appraisal.dashboard.i18n import INDICATORS, Lang, Translator
from tests.e2e.conftest import NAMES, RunningCounty

pytestmark = pytest.mark.e2e

# The README shows docs/screenshots/; refresh them with UPDATE_SCREENSHOTS=1, otherwise
# the screenshots (still taken, so a rendering failure still fails) go to a temp dir.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "advisor-appraisal-screenshots"
)
ZH = Translator(Lang.ZH)
EN = Translator(Lang.EN)


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        yield ctx
    finally:
        await ctx.close()


async def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


async def _sign_in(page: Page, running: RunningCounty, who: str = "bureau") -> None:
    """Open the county overview, get sent to sign in, paste the token, land on the overview."""
    await page.goto(running.url(f"/dashboard/{running.county_id}/{running.year}"))
    assert "/dashboard/login?next=" in page.url
    await page.fill("#token", running.token(who))
    await page.click("#sign-in")
    await page.wait_for_url(f"**/dashboard/{running.county_id}/{running.year}")


def _two(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _shown(value: Any) -> str:
    """How a page writes an API value: counts as they are, measures with 2 decimals."""
    return str(value) if isinstance(value, int | str) else _two(value)


async def _texts(page: Page, selector: str) -> list[str]:
    return [t.strip() for t in await page.locator(selector).all_inner_texts()]


async def test_sign_in_sets_an_httponly_strict_cookie_and_returns_to_the_page(
    running_county: RunningCounty, context: BrowserContext
) -> None:
    page = await context.new_page()
    await page.goto(running_county.url(f"/dashboard/{running_county.county_id}/2024"))
    assert "/dashboard/login?next=%2Fdashboard%2F440115%2F2024" in page.url
    assert await page.get_attribute("html", "lang") == "zh-CN"
    await expect(page.locator("h1")).to_have_text(ZH("login_title"))
    await _shot(page, "login.png")

    await page.fill("#token", "not-a-token")
    await page.click("#sign-in")
    await expect(page.locator("#login-error")).to_have_text(ZH("login_failed"))
    assert await context.cookies() == []

    await page.fill("#token", running_county.token("bureau"))
    await page.click("#sign-in")
    await page.wait_for_url("**/dashboard/440115/2024")
    [cookie] = await context.cookies()
    assert cookie["name"] == "appraisal_dashboard"
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/dashboard"


async def test_the_county_overview_shows_exactly_the_read_api_numbers(
    running_county: RunningCounty, context: BrowserContext
) -> None:
    page = await context.new_page()
    await _sign_in(page, running_county)
    county, year = running_county.county_id, running_county.year
    summary = await running_county.api(f"/v1/counties/{county}/{year}/summary")
    appraisals = await running_county.api(f"/v1/appraisals/{county}/{year}")
    # The scenario: one advisor of each verdict after the late amendment.
    assert summary["verdicts"] == {"RETAIN": 1, "RECTIFY": 1, "REPLACE": 1, "NOT_RATED": 0}

    for code, count in summary["verdicts"].items():
        row = page.locator(f"#verdict-counts tr[data-code='{code}']")
        await expect(row.locator("th")).to_have_text(ZH.term("verdict", code))
        await expect(row.locator("td")).to_have_text(str(count))
    for code, count in summary["grades"].items():
        row = page.locator(f"#grade-counts tr[data-code='{code}']")
        await expect(row.locator("td")).to_have_text(str(count))
    await expect(page.locator("#subsidy-total")).to_have_text(
        f"{summary['subsidy_total_yuan']:,.2f}"
    )
    await expect(page.locator("#assignments-count")).to_have_text(str(summary["assignments"]))
    await expect(page.locator("#status")).to_contain_text(ZH("closed"))
    await expect(page.locator("#policy-id")).to_have_text(appraisals["policy_id"])
    assert await _texts(page, "#villages-without-advisor li") == summary["villages_without_advisor"]
    await expect(page.locator("#advisors-over-load")).to_have_text(ZH("none"))
    await expect(page.locator("#score-chart svg")).to_be_visible()

    rows = page.locator("#assignments tbody tr")
    await expect(rows).to_have_count(len(appraisals["assignments"]))
    for a in appraisals["assignments"]:
        row = page.locator(
            f"#assignments tr[data-advisor='{a['advisor_id']}'][data-village='{a['village_id']}']"
        )
        await expect(row.locator(".score")).to_have_text(_two(a["score"]))
        await expect(row.locator(".verdict")).to_have_attribute("data-code", a["verdict"])
        await expect(row.locator(".verdict")).to_have_text(ZH.term("verdict", a["verdict"]))
        await expect(row.locator(".grade")).to_have_text(ZH.term("grade", a["grade"]))
        await expect(row.locator(".subsidy")).to_have_text(f"{a['subsidy_yuan']:,.2f}")
        await expect(row.locator(".version")).to_have_text(str(a["version"]))
        await expect(row.locator("a.advisor-link")).to_have_text(NAMES[a["advisor_id"]])
    assert "<script" not in await page.content()
    await _shot(page, "county.png")


async def test_county_to_advisor_to_reasons_and_the_language_switch(
    running_county: RunningCounty, context: BrowserContext
) -> None:
    page = await context.new_page()
    await _sign_in(page, running_county)
    year = running_county.year
    await page.click("#assignments tr[data-advisor='A-1'] a.advisor-link")
    await page.wait_for_url(f"**/dashboard/advisors/A-1/{year}")
    advisor = await running_county.api(f"/v1/advisors/A-1/appraisals/{year}")
    [a] = advisor["assignments"]
    village = a["village_id"]
    history = await running_county.api(
        f"/v1/verdicts/{running_county.county_id}/{year}/A-1/{village}"
    )

    await page.click(".reasons-link")
    reasons = page.locator(f"#assignment-{village} table.reasons")
    await expect(page.locator(f"#reasons-{village}")).to_be_in_viewport()
    await expect(reasons.locator("tbody tr")).to_have_count(len(a["reasons"]))
    assert a["reasons"], "the late complaint leaves a reason to show"
    for r in a["reasons"]:
        row = reasons.locator(f"tr[data-code='{r['code']}']")
        await expect(row.locator(".message")).to_have_text(r["message_zh"])
        await expect(row.locator(".observed")).to_have_text(_shown(r["observed"]))
        await expect(row.locator(".threshold")).to_have_text(_shown(r["threshold"]))

    indicators = page.locator(f"#assignment-{village} table.indicators tbody tr")
    assert await indicators.evaluate_all("rows => rows.map(r => r.dataset.key)") == list(INDICATORS)
    assert set(INDICATORS) == set(a["indicators"])
    for key, value in a["indicators"].items():
        cell = page.locator(f"#assignment-{village} tr[data-key='{key}'] td").first
        await expect(cell).to_have_text(_shown(value))

    versions = page.locator(f"#assignment-{village} table.history tbody tr")
    expected = [(str(v["version"]), v["kind"]) for v in history["versions"]]
    assert expected == [("1", "issued"), ("2", "amended")]
    assert [
        (await row.get_attribute("data-version"), await row.get_attribute("data-kind"))
        for row in await versions.all()
    ] == expected
    await expect(page.locator(f"#assignment-{village} .ledger-chart svg")).to_be_visible()
    await expect(page.locator(f"#assignment-{village} .ledger-chart svg")).to_contain_text(
        ZH("requirement_line", hours=4)
    )
    exclusions = page.locator("#exclusions tbody tr")
    assert [await row.get_attribute("data-code") for row in await exclusions.all()] == [
        x["code"] for x in advisor["award_exclusions"]
    ]
    await _shot(page, "advisor.png")

    # zh → en keeps the page; labels and reason messages follow.
    assert await page.get_attribute("html", "lang") == "zh-CN"
    await expect(page.locator("h1")).to_contain_text(ZH("advisor_detail"))
    await expect(page.locator("#lang-switch")).to_have_text("English")
    await page.click("#lang-switch")
    await page.wait_for_url(f"**/dashboard/advisors/A-1/{year}?lang=en")
    assert await page.get_attribute("html", "lang") == "en"
    await expect(page.locator("h1")).to_contain_text(EN("advisor_detail"))
    await expect(page.locator(f"#assignment-{village} .verdict")).to_have_text(
        EN.term("verdict", a["verdict"])
    )
    for r in a["reasons"]:
        row = reasons.locator(f"tr[data-code='{r['code']}']")
        await expect(row.locator(".message")).to_have_text(r["message_en"])
    assert ZH("reasons") not in await page.locator("main").inner_text()

    # Links keep the language; switching back returns to Chinese on the same page.
    await page.click("#county-link")
    await page.wait_for_url(f"**/dashboard/440115/{year}?lang=en")
    await expect(page.locator("h1")).to_contain_text(EN("county_overview"))
    await expect(page.locator("#verdict-counts thead th").first).to_have_text(EN("verdict"))
    await page.click("#lang-switch")
    await page.wait_for_url(f"**/dashboard/440115/{year}?lang=zh")
    assert await page.get_attribute("html", "lang") == "zh-CN"
    await expect(page.locator("#verdict-counts thead th").first).to_have_text(ZH("verdict"))
    await expect(page.locator("h1")).to_contain_text(ZH("county_overview"))


@pytest.mark.parametrize("category", ["social_responsibility", "public_welfare"])
async def test_award_shortlists_show_ranks_values_and_exclusions(
    running_county: RunningCounty, context: BrowserContext, category: str
) -> None:
    page = await context.new_page()
    await _sign_in(page, running_county)
    county, year = running_county.county_id, running_county.year
    await page.click(f".award-link[data-category='{category}']")
    await page.wait_for_url(f"**/dashboard/{county}/{year}/awards/{category}")
    shortlist = await running_county.api(f"/v1/awards/{county}/{year}/{category}")
    await expect(page.locator("h1")).to_contain_text(ZH.term("award", category))

    assert [e["advisor_id"] for e in shortlist["entries"]] == ["A-2"]
    rows = page.locator("#entries tbody tr")
    await expect(rows).to_have_count(len(shortlist["entries"]))
    for e in shortlist["entries"]:
        row = page.locator(f"#entries tr[data-advisor='{e['advisor_id']}']")
        await expect(row.locator(".rank")).to_have_text(str(e["rank"]))
        await expect(row.locator(".value")).to_have_text(_two(e["value"]))
        await expect(row.locator(".score")).to_have_text(_two(e["score"]))
        await expect(row.locator(".bayes")).to_have_text(_two(e["satisfaction_bayes"]))
        await expect(row.locator(".ratings")).to_have_text(str(e["ratings"]))
    excluded = page.locator("#excluded tbody tr")
    assert [
        (await row.get_attribute("data-advisor"), await row.get_attribute("data-code"))
        for row in await excluded.all()
    ] == [(x["advisor_id"], r["code"]) for x in shortlist["excluded"] for r in x["reasons"]]
    if category == "social_responsibility":
        await _shot(page, "awards.png")


def _api_rows(appraisals: dict[str, Any], t: Translator) -> list[tuple[Any, ...]]:
    return [
        (
            a["advisor_id"],
            a["village_id"],
            a["score"],
            t.term("verdict", a["verdict"]),
            a["subsidy_yuan"],
            a["version"],
        )
        for a in appraisals["assignments"]
    ]


def _picked(headers: list[Any], rows: list[list[Any]], t: Translator) -> list[tuple[Any, ...]]:
    keys = ["advisor_id", "village_id", "score", "verdict", "subsidy", "version"]
    columns = [headers.index(t(k)) for k in keys]
    return [tuple(row[c] for c in columns) for row in rows]


async def test_the_county_report_downloads_equal_the_read_api(
    running_county: RunningCounty, context: BrowserContext, tmp_path: Path
) -> None:
    page = await context.new_page()
    await _sign_in(page, running_county)
    county, year = running_county.county_id, running_county.year
    appraisals = await running_county.api(f"/v1/appraisals/{county}/{year}")
    summary = await running_county.api(f"/v1/counties/{county}/{year}/summary")

    async with page.expect_download() as xlsx_info:
        await page.click("#report-xlsx")
    xlsx = tmp_path / "report.xlsx"
    await (await xlsx_info.value).save_as(xlsx)
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["概况", "考核结果", "社会责任贡献奖", "公益爱心奖", "月度台账"]
    headers, *rows = [list(r) for r in book["考核结果"].iter_rows(values_only=True)]
    assert _picked(headers, rows, ZH) == _api_rows(appraisals, ZH)
    summary_rows = dict(book["概况"].iter_rows(min_row=2, values_only=True))
    assert summary_rows[ZH("subsidy_total")] == summary["subsidy_total_yuan"]
    ledger_rows = list(book["月度台账"].iter_rows(min_row=2, values_only=True))
    assert len(ledger_rows) == sum(len(a["ledger"]) for a in appraisals["assignments"])

    async with page.expect_download() as csv_info:
        await page.click("#report-csv")
    target = tmp_path / "report.csv"
    await (await csv_info.value).save_as(target)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8 Chinese"
    headers, *text_rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert _picked(headers, text_rows, ZH) == [
        (adv, vil, _two(score), verdict, _two(subsidy), str(version))
        for adv, vil, score, verdict, subsidy, version in _api_rows(appraisals, ZH)
    ]

    # API clients fetch the same report with a bearer token; ?lang=en for English headers.
    async with httpx.AsyncClient(base_url=running_county.base_url) as client:
        english = await client.get(
            f"/dashboard/{county}/{year}/report.xlsx",
            params={"lang": "en"},
            headers={"Authorization": f"Bearer {running_county.token('bureau')}"},
        )
    assert english.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(english.content))
    assert book.sheetnames[:2] == ["Summary", "Assignments"]
    headers, *rows = [list(r) for r in book["Assignments"].iter_rows(values_only=True)]
    assert _picked(headers, rows, EN) == _api_rows(appraisals, EN)


async def test_other_bureaus_are_refused_and_visitors_without_a_cookie_sign_in(
    running_county: RunningCounty, context: BrowserContext
) -> None:
    county, year = running_county.county_id, running_county.year
    page = await context.new_page()
    await page.goto(running_county.url("/dashboard/login"))
    await page.fill("#token", running_county.token("other-bureau"))
    await page.click("#sign-in")
    await page.wait_for_url("**/dashboard/")
    for path in (
        f"/dashboard/{county}/{year}",
        f"/dashboard/advisors/A-1/{year}",
        f"/dashboard/{county}/{year}/awards/public_welfare",
        f"/dashboard/{county}/{year}/report.xlsx",
    ):
        response = await page.request.get(running_county.url(path))
        # An advisor outside the token's counties looks unknown (404), as in the API.
        assert response.status == (404 if "/advisors/" in path else 403), path
    navigation = await page.goto(running_county.url(f"/dashboard/{county}/{year}"))
    assert navigation is not None
    assert navigation.status == 403
    await expect(page.locator("#error-title")).to_have_text(ZH("forbidden_title"))

    await page.click("#logout")
    await page.wait_for_url("**/dashboard/login**")
    assert await context.cookies() == []

    async with httpx.AsyncClient(base_url=running_county.base_url) as client:
        page_url = f"/dashboard/{county}/{year}"
        anonymous = await client.get(page_url, headers={"Accept": "text/html"})
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/dashboard/login?next=")
        client.cookies.set("appraisal_dashboard", "forged")
        forged = await client.get(page_url)
        client.cookies.clear()
        assert forged.status_code == 303
        report = f"/dashboard/{county}/{year}/report.csv"
        assert (await client.get(report)).status_code == 401
        for who, status in (("bureau", 200), ("other-bureau", 403), ("auditor", 200)):
            bearer = {"Authorization": f"Bearer {running_county.token(who)}"}
            assert (await client.get(report, headers=bearer)).status_code == status, who
