"""The county report: sheets per view, headers in the page language, values as the API gave."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from appraisal.dashboard.i18n import Lang, Translator
from appraisal.dashboard.report import (
    CountyReport,
    assignment_table,
    assignments_csv,
    county_report_xlsx,
)
from tests.unit.dashboard import bodies

pytestmark = pytest.mark.unit

ZH, EN = Translator(Lang.ZH), Translator(Lang.EN)


def _report() -> CountyReport:
    return CountyReport(
        county=bodies.county(),
        summary=bodies.summary(),
        names={"A-1": "张明", "A-2": "李华", "A-3": "王芳"},
        awards={c: bodies.shortlist(c) for c in ("social_responsibility", "public_welfare")},
    )


@pytest.mark.parametrize(
    ("t", "sheets"),
    [
        (ZH, ["概况", "考核结果", "社会责任贡献奖", "公益爱心奖", "月度台账"]),
        (
            EN,
            [
                "Summary",
                "Assignments",
                "Social responsibility award",
                "Public welfare award",
                "Ledgers",
            ],
        ),
    ],
)
def test_the_workbook_has_one_sheet_per_view(t: Translator, sheets: list[str]) -> None:
    book = openpyxl.load_workbook(io.BytesIO(county_report_xlsx(_report(), t)))
    assert book.sheetnames == sheets
    assignments = list(book[sheets[1]].iter_rows(values_only=True))
    assert assignments[0][:3] == (t("advisor_id"), t("name"), t("village_id"))

    def grade(code: str) -> str:
        return t.term("grade", code)

    def verdict(code: str) -> str:
        return t.term("verdict", code)

    assert [row[:7] for row in assignments[1:]] == [
        ("A-1", "张明", "V-A-1", 95.0, grade("EXCELLENT"), verdict("RETAIN"), 20000.0),
        ("A-2", "李华", "V-A-2", 77.5, grade("COMPETENT"), verdict("REPLACE"), 18000.0),
        ("A-3", "王芳", "V-A-3", None, None, verdict("NOT_RATED"), None),
    ]
    assert book[sheets[1]]["D2"].number_format == "0.00"
    summary = dict(book[sheets[0]].iter_rows(min_row=2, values_only=True))
    assert summary[t("subsidy_total")] == 38000.0
    assert summary[t("villages_without_advisor")] == "V-EMPTY"
    ledger = list(book[sheets[4]].iter_rows(min_row=2, values_only=True))
    assert len(ledger) == 6  # 3 assignments × 2 months
    award = list(book[sheets[2]].iter_rows(values_only=True))
    assert award[1][:3] == (1, "A-1", "张明")
    assert ("A-2", "李华", "VERDICT_NOT_RETAIN") in [row[:3] for row in award]


def test_the_csv_starts_with_a_bom_and_writes_numbers_to_two_places() -> None:
    raw = assignments_csv(_report(), ZH)
    assert raw.startswith(b"\xef\xbb\xbf")
    headers, *rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert headers == assignment_table(_report(), ZH)[0]
    assert rows[0][:7] == ["A-1", "张明", "V-A-1", "95.00", "优秀", "保留", "20000.00"]
    assert rows[2][3:7] == ["", "", "不予评定", ""]
    reasons = rows[1][-1]
    assert reasons == "NONCOMPLIANT_MONTHS_6_PLUS 中文说明（实际值 7，阈值 6）"


def test_every_indicator_has_a_column() -> None:
    headers, rows = assignment_table(_report(), EN)
    assert EN.term("indicator", "public_interest_hours") in headers
    assert len(headers) == 10 + 19 + 1
    assert all(len(row) == len(headers) for row in rows)
