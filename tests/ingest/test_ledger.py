"""Township ledgers (工作台账) map to contract v1 events, row by row, with stable identities."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from contracts import ContractViolationError, parse_inbound_event
from ingest.ledger import MappedRow, column_of, events_of, map_ledger
from ingest.ledger_files import COLUMNS, LedgerFileError, csv_to_xlsx, read_ledger

pytestmark = pytest.mark.unit

SAMPLES = Path(__file__).resolve().parents[2] / "services" / "ingest" / "samples"
SAMPLE_CSV = SAMPLES / "ledger-sample.csv"
SAMPLE_XLSX = SAMPLES / "ledger-sample.xlsx"
HEADINGS = list(COLUMNS)


def _map_file(path: Path) -> list[MappedRow]:
    sheet = read_ledger(path.read_bytes(), path.name, 1000)
    return map_ledger(sheet, source="dongchong-ledger", county="440115")


def _csv(*rows: dict[str, str], headings: list[str] = HEADINGS, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headings)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headings])
    return buffer.getvalue().encode(encoding)


def _row(**cells: str) -> dict[str, str]:
    base = {"日期": "2024-03-05", "顾问编号": "A-0001", "村（社区）": "440115101001"}
    return {**base, **cells}


def _one(**cells: str) -> MappedRow:
    sheet = read_ledger(_csv(_row(**cells)), "x.csv", 10)
    (mapped,) = map_ledger(sheet, source="dongchong-ledger", county="440115")
    return mapped


def test_the_sample_csv_maps_13_rows_to_events_and_reports_2_by_row_number() -> None:
    rows = _map_file(SAMPLE_CSV)
    assert len(rows) == 16
    assert [r.number for r in rows] == list(range(3, 19))
    rejected = {
        r.number: [(v.code, column_of(v.path)) for v in r.reasons] for r in rows if r.event is None
    }
    assert rejected == {13: [("invalid_choice", "服务类型")], 15: [("missing_field", "结果")]}
    assert len(events_of(rows)) == 14


def test_every_sample_event_but_the_inverted_duty_passes_the_contract() -> None:
    failures = {}
    for row in _map_file(SAMPLE_CSV):
        if row.event is None:
            continue
        try:
            parse_inbound_event(row.event)
        except ContractViolationError as error:
            failures[row.number] = [v.code for v in error.violations]
    assert failures == {14: ["end_before_start"]}


def test_the_xlsx_sample_holds_the_same_ledger_as_the_csv() -> None:
    assert events_of(_map_file(SAMPLE_XLSX)) == events_of(_map_file(SAMPLE_CSV))


def test_the_xlsx_sample_is_what_make_xlsx_writes(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.xlsx"
    csv_to_xlsx(SAMPLE_CSV, fresh)
    assert events_of(_map_file(fresh)) == events_of(_map_file(SAMPLE_XLSX))
    sheet = openpyxl.load_workbook(SAMPLE_XLSX, read_only=True).worksheets[0]
    assert sheet.title == "工作台账"


@pytest.mark.parametrize(
    ("cells", "type_", "payload"),
    [
        (
            {"服务类型": "驻村值班", "开始时间": "09:00", "结束时间": "12:00", "渠道": "扫码"},
            "activity.onsite_duty.v1",
            {
                "started_at": "2024-03-05T09:00:00+08:00",
                "ended_at": "2024-03-05T12:00:00+08:00",
                "check_in": "qr",
            },
        ),
        (
            {"服务类型": "值班", "开始时间": "14:00", "时长（分钟）": "90"},
            "activity.onsite_duty.v1",
            {"ended_at": "2024-03-05T15:30:00+08:00", "check_in": "self_reported"},
        ),
        (
            {"服务类型": "法治讲座", "开始时间": "19:30", "时长（分钟）": "90分钟", "人数": "45人"},
            "activity.lecture.v1",
            {"duration_minutes": 90, "attendees": 45, "online": False, "topic": "法治讲座"},
        ),
        (
            {"服务类型": "法治讲座", "开始时间": "10:00", "结束时间": "11:15", "渠道": "线上"},
            "activity.lecture.v1",
            {"duration_minutes": 75, "attendees": 0, "online": True},
        ),
        (
            {"服务类型": "人民调解", "结果": "调解成功", "备注": "邻里纠纷"},
            "activity.mediation.v1",
            {"outcome": "resolved", "parties": 2, "dispute_type": "邻里纠纷"},
        ),
        (
            {"服务类型": "人民调解", "结果": "未成功", "人数": "3"},
            "activity.mediation.v1",
            {"outcome": "unresolved", "parties": 3},
        ),
        (
            {"服务类型": "人民调解", "结果": "转交", "案号": "（2024）东调字第3号"},
            "activity.mediation.v1",
            {"outcome": "referred", "case_ref": "（2024）东调字第3号"},
        ),
        (
            {
                "服务类型": "法律咨询",
                "开始时间": "21:10",
                "结束时间": "2024-03-06 08:30",
                "渠道": "微信",
            },
            "activity.consultation.v1",
            {
                "channel": "wechat",
                "asked_at": "2024-03-05T21:10:00+08:00",
                "answered_at": "2024-03-06T08:30:00+08:00",
            },
        ),
        (
            {"服务类型": "法律咨询", "渠道": "12348热线"},
            "activity.consultation.v1",
            {
                "channel": "hotline_12348",
                "asked_at": "2024-03-05T00:00:00+08:00",
                "answered_at": "2024-03-05T00:00:00+08:00",
            },
        ),
        (
            {"服务类型": "咨询", "渠道": "网络平台", "结果": "未答复", "开始时间": "20:00"},
            "activity.consultation.v1",
            {"channel": "online_platform", "answered_at": None},
        ),
        (
            {"服务类型": "法律咨询"},
            "activity.consultation.v1",
            {"channel": "onsite", "topic": "法律咨询"},
        ),
        (
            {"服务类型": "法律咨询", "渠道": "电话"},
            "activity.consultation.v1",
            {"channel": "phone"},
        ),
        (
            {"服务类型": "代写文书", "备注": "遗嘱  \n 代书"},
            "activity.document_drafted.v1",
            {"document_kind": "遗嘱 代书"},
        ),
        (
            {"服务类型": "法律援助转介"},
            "activity.legal_aid_referral.v1",
            {},
        ),
        (
            {"服务类型": "法律建议", "开始时间": "9时45分", "备注": "土地租赁合同审查"},
            "activity.committee_advice.v1",
            {"subject": "土地租赁合同审查"},
        ),
    ],
)
def test_service_types_map_to_events(
    cells: dict[str, str], type_: str, payload: dict[str, Any]
) -> None:
    mapped = _one(**cells)
    assert mapped.event is not None, mapped.reasons
    assert mapped.event["type"] == type_
    assert mapped.event["county_id"] == "440115"
    assert mapped.event["advisor_id"] == "A-0001"
    assert mapped.event["payload"]["village_id"] == "440115101001"
    assert payload.items() <= mapped.event["payload"].items()
    parse_inbound_event(mapped.event)


@pytest.mark.parametrize(
    ("cells", "code", "column"),
    [
        ({"服务类型": "走访"}, "invalid_choice", "服务类型"),
        ({"服务类型": ""}, "missing_field", "服务类型"),
        ({"服务类型": "法律咨询", "日期": "三月五日"}, "bad_format", "日期"),
        ({"服务类型": "法律咨询", "日期": "2024-02-30"}, "bad_format", "日期"),
        ({"服务类型": "法律咨询", "顾问编号": ""}, "missing_field", "顾问编号"),
        ({"服务类型": "法律咨询", "村（社区）": ""}, "missing_field", "村（社区）"),
        ({"服务类型": "法律咨询", "渠道": "飞鸽传书"}, "invalid_choice", "渠道"),
        ({"服务类型": "驻村值班", "开始时间": "09:00"}, "missing_field", "结束时间"),
        ({"服务类型": "驻村值班", "结束时间": "12:00"}, "missing_field", "开始时间"),
        (
            {"服务类型": "驻村值班", "开始时间": "25:00", "结束时间": "26:00"},
            "bad_format",
            "开始时间",
        ),
        ({"服务类型": "法治讲座", "开始时间": "19:00"}, "missing_field", "时长（分钟）"),
        ({"服务类型": "法治讲座", "开始时间": "19:00", "人数": "很多"}, "bad_format", "人数"),
        ({"服务类型": "人民调解"}, "missing_field", "结果"),
        ({"服务类型": "人民调解", "结果": "和好"}, "invalid_choice", "结果"),
    ],
)
def test_a_bad_row_is_reported_with_its_column(
    cells: dict[str, str], code: str, column: str
) -> None:
    mapped = _one(**cells)
    assert mapped.event is None
    assert (code, column) in {(v.code, column_of(v.path)) for v in mapped.reasons}
    assert mapped.number == 2


def test_row_identity_follows_content_not_position() -> None:
    a = _row(服务类型="法律咨询", 渠道="微信", 备注="a")
    b = _row(服务类型="法律咨询", 渠道="微信", 备注="b")
    forward = events_of(
        map_ledger(read_ledger(_csv(a, b), "x.csv", 10), source="s", county="440115")
    )
    backward = events_of(
        map_ledger(read_ledger(_csv(b, a), "x.csv", 10), source="s", county="440115")
    )
    assert {e["source_event_id"] for e in forward} == {e["source_event_id"] for e in backward}
    changed = _row(服务类型="法律咨询", 渠道="微信", 备注="a, corrected")
    (edited,) = events_of(
        map_ledger(read_ledger(_csv(changed), "x.csv", 10), source="s", county="440115")
    )
    assert edited["source_event_id"] not in {e["source_event_id"] for e in forward}


def test_identical_rows_are_different_events_in_order_of_occurrence() -> None:
    same = _row(服务类型="法律咨询", 渠道="电话")
    events = events_of(
        map_ledger(read_ledger(_csv(same, same, same), "x.csv", 10), source="s", county="440115")
    )
    ids = [e["source_event_id"] for e in events]
    assert ids[1] == ids[0] + "-2"
    assert ids[2] == ids[0] + "-3"


def test_a_gbk_csv_from_excel_reads_like_utf8() -> None:
    row = _row(服务类型="法治讲座", 开始时间="19:30", **{"时长（分钟）": "60"}, 备注="民法典讲座")
    utf8 = events_of(map_ledger(read_ledger(_csv(row), "x.csv", 10), source="s", county="440115"))
    gbk = events_of(
        map_ledger(read_ledger(_csv(row, encoding="gbk"), "x.csv", 10), source="s", county="440115")
    )
    assert utf8 == gbk


def test_headings_are_matched_with_either_bracket_width_and_stray_spaces() -> None:
    headings = [
        "日期",
        "顾问编号 ",
        "村(社区)",
        "*服务类型",
        "开始时间",
        "时长(分钟)",
        "渠道",
        "摄影",
    ]
    data = _csv(
        {
            "日期": "2024-03-05",
            "顾问编号 ": "A-1",
            "村(社区)": "V-1",
            "*服务类型": "讲座",
            "开始时间": "19:00",
            "时长(分钟)": "60",
        },
        headings=headings,
    )
    sheet = read_ledger(data, "x.csv", 10)
    assert sheet.ignored_columns == ["摄影"]
    (mapped,) = map_ledger(sheet, source="s", county="440115")
    assert mapped.event is not None
    assert mapped.event["payload"]["duration_minutes"] == 60


def test_a_ledger_without_the_required_columns_is_refused() -> None:
    with pytest.raises(LedgerFileError, match="顾问编号"):
        read_ledger(_csv(headings=["日期", "村（社区）", "服务类型"]), "x.csv", 10)
    with pytest.raises(LedgerFileError, match="服务类型"):
        read_ledger(b"just,some,text\n1,2,3\n", "x.csv", 10)


def test_too_many_rows_is_a_413() -> None:
    rows = [_row(服务类型="法律咨询", 备注=str(i)) for i in range(5)]
    with pytest.raises(LedgerFileError) as caught:
        read_ledger(_csv(*rows), "x.csv", 4)
    assert caught.value.status == 413


def test_a_broken_xlsx_is_refused() -> None:
    with pytest.raises(LedgerFileError, match="XLSX"):
        read_ledger(b"PK\x03\x04 not really a zip", "x.xlsx", 10)


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_tab_and_semicolon_separated_csv_read_like_commas(delimiter: str) -> None:
    row = _row(服务类型="法律咨询", 渠道="微信", 备注="合同, 租赁")
    comma = events_of(map_ledger(read_ledger(_csv(row), "x.csv", 10), source="s", county="440115"))
    other = _csv(row).decode()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerows(csv.reader(io.StringIO(other)))
    sheet = read_ledger(buffer.getvalue().encode(), "x.csv", 10)
    assert events_of(map_ledger(sheet, source="s", county="440115")) == comma
