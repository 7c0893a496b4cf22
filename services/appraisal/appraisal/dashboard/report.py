"""The downloadable county report: XLSX (one sheet per view) and CSV (assignments).

Everything in it is copied from read-API answers; headers follow the page
language (Chinese by default). The CSV starts with a UTF-8 byte-order mark so
that Excel opens Chinese text correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from appraisal.dashboard.formats import display, reason_text, reason_value
from appraisal.dashboard.i18n import GRADES, INDICATORS, VERDICTS, Translator

Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class CountyReport:
    """The read-API answers a county report is made of."""

    county: dict[str, Any]
    """`GET /v1/appraisals/{county}/{year}`."""
    summary: dict[str, Any]
    """`GET /v1/counties/{county}/{year}/summary`."""
    names: dict[str, str] = field(default_factory=dict)
    """Advisor id → name."""
    awards: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Award category → `GET /v1/awards/{county}/{year}/{category}`."""


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    value: Callable[[dict[str, Any]], Cell]
    decimals: bool = False


def assignment_columns(report: CountyReport, t: Translator) -> list[Column]:
    """The columns of the assignments table, shared by the XLSX sheet and the CSV."""
    columns = [
        Column(t("advisor_id"), lambda a: a["advisor_id"]),
        Column(t("name"), lambda a: report.names.get(a["advisor_id"], "")),
        Column(t("village_id"), lambda a: a["village_id"]),
        Column(t("score"), lambda a: a["score"], decimals=True),
        Column(t("grade"), lambda a: None if a["grade"] is None else t.term("grade", a["grade"])),
        Column(t("verdict"), lambda a: t.term("verdict", a["verdict"])),
        Column(t("subsidy"), lambda a: a["subsidy_yuan"], decimals=True),
        Column(t("version"), lambda a: a["version"]),
        Column(t("provisional_col"), lambda a: t.yes_no(a["provisional"])),
        Column(t("policy_id"), lambda a: a["policy_id"]),
    ]
    columns += [
        Column(t.term("indicator", key), _indicator(key), decimals=True) for key in INDICATORS
    ]
    columns.append(
        Column(t("reasons"), lambda a: "；".join(reason_text(r, t) for r in a["reasons"]))
    )
    return columns


def _indicator(key: str) -> Callable[[dict[str, Any]], Cell]:
    return lambda a: a["indicators"][key]


def assignment_table(report: CountyReport, t: Translator) -> tuple[list[str], list[list[Cell]]]:
    """Headers and one row per assignment, in the API's order."""
    columns = assignment_columns(report, t)
    rows = [[c.value(a) for c in columns] for a in report.county["assignments"]]
    return [c.header for c in columns], rows


def _summary_rows(report: CountyReport, t: Translator) -> list[tuple[str, Cell]]:
    s = report.summary
    rows: list[tuple[str, Cell]] = [
        (t("county_id"), s["county_id"]),
        (t("year"), s["year"]),
        (t("status"), t("closed") if s["closed"] else t("provisional")),
        (t("policy_id"), s["policy_id"]),
        (t("assignments_count"), s["assignments"]),
        (t("advisors_count"), s["advisors"]),
        (t("villages_registered"), s["villages_registered"]),
        (t("subsidy_total"), s["subsidy_total_yuan"]),
    ]
    rows += [
        (f"{t('verdict')}：{t.term('verdict', code)}", s["verdicts"].get(code, 0))
        for code in VERDICTS
    ]
    rows += [
        (f"{t('grade')}：{t.term('grade', code)}", s["grades"].get(code, 0)) for code in GRADES
    ]
    rows += [
        (f"{t('score_range')} {b['from']}–{b['to']}", b["count"]) for b in s["score_distribution"]
    ]
    rows.append((t("villages_without_advisor"), "、".join(s["villages_without_advisor"])))
    rows.append((t("advisors_over_load"), "、".join(s["advisors_over_load_limit"])))
    return rows


def _award_rows(body: dict[str, Any], category: str, report: CountyReport, t: Translator) -> Any:
    yield [
        t("rank"),
        t("advisor_id"),
        t("name"),
        t.term("award_value", category),
        t("score"),
        t("satisfaction_bayes"),
        t("ratings"),
    ]
    for e in body["entries"]:
        yield [
            e["rank"],
            e["advisor_id"],
            e["name"],
            e["value"],
            e["score"],
            e["satisfaction_bayes"],
            e["ratings"],
        ]
    yield []
    yield [t("excluded")]
    yield [t("advisor_id"), t("name"), t("code"), t("message"), t("observed"), t("threshold")]
    for x in body["excluded"]:
        for r in x["reasons"]:
            yield [
                x["advisor_id"],
                report.names.get(x["advisor_id"], ""),
                r["code"],
                t.message(r),
                reason_value(r["observed"], t),
                reason_value(r["threshold"], t),
            ]


def _ledger_rows(report: CountyReport, t: Translator) -> Any:
    yield [
        t("advisor_id"),
        t("village_id"),
        t("month"),
        t("active_days"),
        t("served"),
        t("onsite_hours"),
        t("raw_credit"),
        t("capped_credit"),
        t("has_onsite"),
        t("compliant"),
    ]
    for a in report.county["assignments"]:
        for m in a["ledger"]:
            yield [
                a["advisor_id"],
                a["village_id"],
                m["month"],
                m["active_days"],
                t.yes_no(m["served"]),
                m["onsite_hours"],
                m["raw_credit_hours"],
                m["capped_credit_hours"],
                t.yes_no(m["has_onsite_interval"]),
                t.yes_no(m["compliant"]),
            ]


def _two_places(sheet: Any) -> None:
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, float):
                cell.number_format = "0.00"


def _header(sheet: Any, row: int = 1) -> None:
    for cell in sheet[row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)


def _widths(sheet: Any) -> None:
    for index, column in enumerate(sheet.iter_cols(), start=1):
        longest = max((len(str(c.value)) for c in column if c.value is not None), default=4)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest * 1.6, 8), 60)


def county_report_xlsx(report: CountyReport, t: Translator) -> bytes:
    """The workbook: summary, assignments, one sheet per award category, ledgers."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = t("summary_sheet")
    summary.append([t("item"), t("value")])
    for row in _summary_rows(report, t):
        summary.append(list(row))
    _header(summary)

    assignments = book.create_sheet(t("assignments_sheet"))
    headers, rows = assignment_table(report, t)
    assignments.append(headers)
    for values in rows:
        assignments.append(values)
    _header(assignments)

    for category, body in report.awards.items():
        sheet = book.create_sheet(t.term("award_sheet", category))
        for values in _award_rows(body, category, report, t):
            sheet.append(values)
        _header(sheet)

    ledgers = book.create_sheet(t("ledger_sheet"))
    for values in _ledger_rows(report, t):
        ledgers.append(values)
    _header(ledgers)

    for sheet in book.worksheets:
        _two_places(sheet)
        _widths(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def assignments_csv(report: CountyReport, t: Translator) -> bytes:
    """The assignments table as CSV, UTF-8 with a byte-order mark, numbers to 2 places."""
    headers, rows = assignment_table(report, t)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(headers)
    for values in rows:
        writer.writerow(["" if v is None else display(v) for v in values])
    return text.getvalue().encode("utf-8-sig")
