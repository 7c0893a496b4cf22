"""Ledger rows → contract v1 activity events (台账导入). docs/ingest.md has the full table.

Mapping only: the events are then checked by the same code as ``POST
/v1/events`` (contract, clock, scope), so a row is accepted exactly when the
same event sent by HTTP would be.

Row identity: ``source_event_id`` is ``ledger-`` + a hash of the row's
normalised content (county, advisor, village, type, date, times, duration,
channel, count, result, remarks, case number) — not of its row number — so
re-importing a file, or a later version of it with rows added or sorted
differently, publishes nothing twice. Identical rows are told apart by their
order of occurrence (``…-2`` for the second copy).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from contracts import ErrorCode, Violation, json_path
from ingest.ledger_files import (
    ADVISOR_ID,
    CASE_REF,
    CHANNEL,
    COUNT,
    DATE,
    END,
    MINUTES,
    REMARKS,
    RESULT,
    SERVICE,
    START,
    VILLAGE,
    Cell,
    LedgerSheet,
    SheetRow,
)

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")
"""Ledger times are local times in China."""

DUTY: Final = "activity.onsite_duty.v1"
LECTURE: Final = "activity.lecture.v1"
MEDIATION: Final = "activity.mediation.v1"
CONSULTATION: Final = "activity.consultation.v1"
DOCUMENT: Final = "activity.document_drafted.v1"
LEGAL_AID: Final = "activity.legal_aid_referral.v1"
ADVICE: Final = "activity.committee_advice.v1"

SERVICE_TYPES: Final[dict[str, str]] = {
    "驻村值班": DUTY,
    "值班": DUTY,
    "驻村坐班": DUTY,
    "坐班": DUTY,
    "法治讲座": LECTURE,
    "普法讲座": LECTURE,
    "讲座": LECTURE,
    "人民调解": MEDIATION,
    "调解": MEDIATION,
    "纠纷调解": MEDIATION,
    "法律咨询": CONSULTATION,
    "咨询": CONSULTATION,
    "代写文书": DOCUMENT,
    "代写法律文书": DOCUMENT,
    "起草文书": DOCUMENT,
    "法律援助转介": LEGAL_AID,
    "法律援助": LEGAL_AID,
    "援助转介": LEGAL_AID,
    "法律建议": ADVICE,
    "法律意见": ADVICE,
}
"""服务类型 → event type."""

DEFAULT_LABELS: Final[dict[str, str]] = {
    LECTURE: "法治讲座",
    MEDIATION: "未注明纠纷类型",
    CONSULTATION: "法律咨询",
    DOCUMENT: "法律文书",
    ADVICE: "法律建议",
}
"""The topic/subject/kind used when 备注 is empty."""

CONSULTATION_CHANNELS: Final[dict[str, str]] = {
    "现场": "onsite",
    "当面": "onsite",
    "来访": "onsite",
    "微信": "wechat",
    "微信群": "wechat",
    "电话": "phone",
    "12348热线": "hotline_12348",
    "12348": "hotline_12348",
    "热线": "hotline_12348",
    "网络平台": "online_platform",
    "网络": "online_platform",
    "网上": "online_platform",
    "在线": "online_platform",
}
"""渠道 of a consultation → ``channel``; empty means 现场 (on site)."""

LECTURE_ONLINE: Final[dict[str, bool]] = {
    "现场": False,
    "线下": False,
    "线上": True,
    "网络": True,
    "网络平台": True,
    "在线": True,
    "直播": True,
    "视频": True,
    "微信": True,
}
"""渠道 of a lecture → ``online``; empty means on site."""

CHECK_INS: Final[dict[str, str]] = {
    "自报": "self_reported",
    "现场": "self_reported",
    "签到": "self_reported",
    "gps": "gps",
    "定位": "gps",
    "定位打卡": "gps",
    "扫码": "qr",
    "二维码": "qr",
    "扫码签到": "qr",
    "司法所确认": "supervisor",
    "司法所": "supervisor",
    "督导确认": "supervisor",
}
"""渠道 of an on-site duty → ``check_in``; empty means self-reported."""

MEDIATION_OUTCOMES: Final[dict[str, str]] = {
    "调解成功": "resolved",
    "成功": "resolved",
    "达成协议": "resolved",
    "未成功": "unresolved",
    "调解未成功": "unresolved",
    "调解不成功": "unresolved",
    "调解失败": "unresolved",
    "未达成协议": "unresolved",
    "转交": "referred",
    "移交": "referred",
    "转办": "referred",
    "转交其他部门": "referred",
}
"""结果 of a mediation → ``outcome`` (required)."""

UNANSWERED: Final = frozenset({"未答复", "待答复", "未解答", "未回复"})
"""结果 values that leave a consultation unanswered (``answered_at`` null)."""

DEFAULT_PARTIES: Final = 2
LABEL_MAX: Final = 200

FIELD_COLUMNS: Final[dict[str, str]] = {
    "$.advisor_id": ADVISOR_ID,
    "$.occurred_at": DATE,
    "$.type": SERVICE,
    "$.payload.village_id": VILLAGE,
    "$.payload.started_at": START,
    "$.payload.asked_at": START,
    "$.payload.ended_at": END,
    "$.payload.answered_at": END,
    "$.payload.duration_minutes": MINUTES,
    "$.payload.channel": CHANNEL,
    "$.payload.online": CHANNEL,
    "$.payload.check_in": CHANNEL,
    "$.payload.attendees": COUNT,
    "$.payload.parties": COUNT,
    "$.payload.outcome": RESULT,
    "$.payload.topic": REMARKS,
    "$.payload.subject": REMARKS,
    "$.payload.document_kind": REMARKS,
    "$.payload.dispute_type": REMARKS,
    "$.payload.case_ref": CASE_REF,
}
"""The column behind an event field, to point a rejected row at the right cell."""


@dataclass(frozen=True)
class MappedRow:
    """A ledger row and the event it maps to, or why it maps to none."""

    number: int
    event: dict[str, Any] | None
    reasons: tuple[Violation, ...] = field(default=())


def column_of(path: str) -> str | None:
    """The ledger column of an event path or a column path (``$['渠道']``), if any."""
    if path in FIELD_COLUMNS:
        return FIELD_COLUMNS[path]
    found = re.fullmatch(r"\$\['(.+)'\]", path)
    return found.group(1) if found else None


def map_ledger(sheet: LedgerSheet, *, source: str, county: str) -> list[MappedRow]:
    """Map every data row of a ledger, in order."""
    occurrences: Counter[str] = Counter()
    mapped: list[MappedRow] = []
    for row in sheet.rows:
        reader = _RowReader(row)
        built = _build(reader, source=source, county=county)
        if reader.problems or built is None:
            mapped.append(MappedRow(row.number, None, tuple(reader.problems)))
            continue
        event, identity = built
        occurrences[identity] += 1
        n = occurrences[identity]
        event["source_event_id"] = f"ledger-{identity[:32]}" + (f"-{n}" if n > 1 else "")
        mapped.append(MappedRow(row.number, event))
    return mapped


def _problem(code: ErrorCode, column: str, message: str) -> Violation:
    return Violation(code=code.value, path=json_path([column]), message=message)


class _RowReader:
    """Reads typed values from a row's cells, collecting a reason per bad cell."""

    def __init__(self, row: SheetRow) -> None:
        self.cells = row.cells
        self.problems: list[Violation] = []

    def fail(self, code: ErrorCode, column: str, message: str) -> None:
        self.problems.append(_problem(code, column, message))

    def text(self, column: str) -> str:
        """The cell as single-line text ('' when empty)."""
        value = self.cells.get(column)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return " ".join(str(value).split())

    def required_text(self, column: str) -> str:
        """Like :meth:`text`, but an empty cell is a problem."""
        value = self.text(column)
        if not value:
            self.fail(ErrorCode.MISSING_FIELD, column, f"{column} is empty")
        return value

    def choice(self, column: str, choices: dict[str, Any], default: Any = None) -> Any:
        """The mapped value of a cell from a fixed vocabulary; empty gives ``default``."""
        value = self.text(column)
        if not value:
            if default is None:
                self.fail(ErrorCode.MISSING_FIELD, column, f"{column} is empty")
            return default
        key = value.lower() if value.isascii() else value.replace(" ", "")
        if key in choices:
            return choices[key]
        shown = value if len(value) <= 20 else value[:20] + "…"
        self.fail(
            ErrorCode.INVALID_CHOICE,
            column,
            f"{column} {shown!r} is not one of: {', '.join(choices)}",
        )
        return None

    def day(self) -> date | None:
        """The 日期 cell as a date."""
        value = self.cells.get(DATE)
        if value is None:
            self.fail(ErrorCode.MISSING_FIELD, DATE, f"{DATE} is empty")
            return None
        parsed = _parse_date(value)
        if parsed is None:
            self.fail(
                ErrorCode.BAD_FORMAT, DATE, f"{DATE} must be a date such as 2024-03-05 or 2024/3/5"
            )
        return parsed

    def moment(self, column: str, day: date | None) -> datetime | None:
        """A time cell on ``day`` (or a full date and time in the cell), Asia/Shanghai."""
        value = self.cells.get(column)
        if value is None:
            return None
        parsed = _parse_moment(value, day)
        if parsed is None:
            self.fail(
                ErrorCode.BAD_FORMAT,
                column,
                f"{column} must be a time such as 09:30 (or a date and time 2024-03-05 09:30)",
            )
        return parsed

    def count(self, column: str) -> int | None:
        """A whole number cell (``45``, ``45.0``, ``45人``, ``90分钟``)."""
        value = self.cells.get(column)
        if value is None:
            return None
        parsed = _parse_count(value)
        if parsed is None:
            self.fail(ErrorCode.BAD_FORMAT, column, f"{column} must be a whole number")
        return parsed


def _parse_count(value: Cell) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    found = re.fullmatch(r"\s*([0-9]{1,7})\s*(?:人|分钟|分|min)?\s*", str(value))
    return int(found.group(1)) if found else None


def _parse_date(value: Cell) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    found = re.fullmatch(
        r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?", text
    )
    if found is None:
        found = re.fullmatch(r"([0-9]{4})([0-9]{2})([0-9]{2})", text)
    if found is None:
        return None
    try:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        return None


def _parse_moment(value: Cell, day: date | None) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, time):
        return datetime.combine(day, value, SHANGHAI) if day else None
    if isinstance(value, float) and 0 <= value < 1:  # an Excel time left as a number
        return (
            datetime.combine(day, time(), SHANGHAI) + timedelta(minutes=round(value * 1440))
            if day
            else None
        )
    text = str(value).strip()
    date_part, _, time_part = re.sub(r"[T\s]+", " ", text).rpartition(" ")
    the_day = _parse_date(date_part) if date_part else day
    clock = _parse_clock(time_part)
    if the_day is None or clock is None:
        return None
    return datetime.combine(the_day, clock, SHANGHAI)


def _parse_clock(text: str) -> time | None:
    normalised = text.replace("：", ":").replace("时", ":").replace("点", ":")
    normalised = normalised.replace("分", "").replace("秒", "").rstrip(":")
    found = re.fullmatch(r"([0-9]{1,2})(?::([0-9]{1,2}))?(?::([0-9]{1,2}))?", normalised)
    if found is None:
        return None
    hour, minute, second = (int(g) if g else 0 for g in found.groups())
    try:
        return time(hour, minute, second)
    except ValueError:
        return None


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _label(reader: _RowReader, type_: str) -> str:
    remarks = reader.text(REMARKS)
    return (remarks[:LABEL_MAX].rstrip() if remarks else "") or DEFAULT_LABELS[type_]


def _identity(reader: _RowReader, county: str, type_: str, day: date) -> str:
    """The hash of the row's normalised content (see the module docstring)."""

    def moment(column: str) -> str:
        value = reader.cells.get(column)
        parsed = _parse_moment(value, day) if value is not None else None
        return parsed.isoformat() if parsed else reader.text(column)

    def number(column: str) -> str:
        value = reader.cells.get(column)
        parsed = _parse_count(value) if value is not None else None
        return str(parsed) if parsed is not None else reader.text(column)

    # Parsed values, so the CSV and the XLSX of one ledger give the same ids.
    content = {
        "county": county,
        "type": type_,
        "date": day.isoformat(),
        START: moment(START),
        END: moment(END),
        MINUTES: number(MINUTES),
        COUNT: number(COUNT),
        **{c: reader.text(c) for c in (ADVISOR_ID, VILLAGE, CHANNEL, RESULT, REMARKS, CASE_REF)},
    }
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_Payload = tuple[datetime, dict[str, Any]]


def _build(reader: _RowReader, *, source: str, county: str) -> tuple[dict[str, Any], str] | None:
    type_ = reader.choice(SERVICE, SERVICE_TYPES)
    day = reader.day()
    advisor_id = reader.required_text(ADVISOR_ID)
    village_id = reader.required_text(VILLAGE)
    if type_ is None or day is None:
        return None
    identity = _identity(reader, county, type_, day)
    built = _PAYLOADS[type_](reader, day, village_id, identity)
    if built is None or reader.problems:
        return None
    occurred_at, payload = built
    event = {
        "type": type_,
        "source": source,
        "source_event_id": "",
        "occurred_at": _iso(occurred_at),
        "county_id": county,
        "advisor_id": advisor_id,
        "payload": payload,
    }
    return event, identity


def _point_in_day(reader: _RowReader, day: date) -> datetime | None:
    start = reader.moment(START, day)
    end = reader.moment(END, day)
    return start or end or datetime.combine(day, time(), SHANGHAI)


def _duty(reader: _RowReader, day: date, village_id: str, identity: str) -> _Payload | None:
    started = reader.moment(START, day)
    ended = reader.moment(END, day)
    minutes = reader.count(MINUTES)
    check_in = reader.choice(CHANNEL, CHECK_INS, default="self_reported")
    if started is None:
        if reader.cells.get(START) is None:
            reader.fail(ErrorCode.MISSING_FIELD, START, f"{START} is empty")
        return None
    if ended is None and minutes is not None:
        try:
            ended = started + timedelta(minutes=minutes)
        except OverflowError:  # e.g. 9999999 minutes from 9999-12-31
            reader.fail(ErrorCode.OUT_OF_RANGE, MINUTES, f"{MINUTES} is too large for {DATE}")
            return None
    if ended is None:
        if reader.cells.get(END) is None:
            reader.fail(ErrorCode.MISSING_FIELD, END, f"{END} or {MINUTES} is needed")
        return None
    payload = {
        "village_id": village_id,
        "started_at": _iso(started),
        "ended_at": _iso(ended),
        "check_in": check_in,
    }
    return ended, payload


def _lecture(reader: _RowReader, day: date, village_id: str, identity: str) -> _Payload | None:
    started = reader.moment(START, day)
    ended = reader.moment(END, day)
    minutes = reader.count(MINUTES)
    attendees = reader.count(COUNT)
    online = reader.choice(CHANNEL, LECTURE_ONLINE, default=False)
    if started is None:
        if reader.cells.get(START) is None:
            reader.fail(ErrorCode.MISSING_FIELD, START, f"{START} is empty")
        return None
    if minutes is None and ended is not None:
        minutes = int((ended - started).total_seconds() // 60)
    if minutes is None:
        if reader.cells.get(END) is None:
            reader.fail(ErrorCode.MISSING_FIELD, MINUTES, f"{MINUTES} or {END} is needed")
        return None
    payload = {
        "village_id": village_id,
        "topic": _label(reader, LECTURE),
        "started_at": _iso(started),
        "duration_minutes": minutes,
        "attendees": attendees if attendees is not None else 0,
        "online": online,
    }
    return started, payload


def _mediation(reader: _RowReader, day: date, village_id: str, identity: str) -> _Payload | None:
    parties = reader.count(COUNT)
    outcome = reader.choice(RESULT, MEDIATION_OUTCOMES)
    at = _point_in_day(reader, day)
    if at is None or outcome is None:
        return None
    payload = {
        "village_id": village_id,
        "case_ref": reader.text(CASE_REF) or f"LEDGER-{identity[:16]}",
        "dispute_type": _label(reader, MEDIATION),
        "parties": parties if parties is not None else DEFAULT_PARTIES,
        "outcome": outcome,
    }
    return at, payload


def _consultation(reader: _RowReader, day: date, village_id: str, identity: str) -> _Payload | None:
    channel = reader.choice(CHANNEL, CONSULTATION_CHANNELS, default="onsite")
    asked = reader.moment(START, day)
    answered = reader.moment(END, day)
    if reader.problems:
        return None
    asked = asked or datetime.combine(day, time(), SHANGHAI)
    if reader.text(RESULT) in UNANSWERED:
        answered = None
    elif answered is None:
        answered = asked  # a ledger records consultations answered when they were asked
    payload = {
        "village_id": village_id,
        "channel": channel,
        "asked_at": _iso(asked),
        "answered_at": _iso(answered) if answered else None,
        "topic": _label(reader, CONSULTATION),
    }
    return asked, payload


def _document(reader: _RowReader, day: date, village_id: str, identity: str) -> _Payload | None:
    at = _point_in_day(reader, day)
    if at is None:
        return None
    return at, {"village_id": village_id, "document_kind": _label(reader, DOCUMENT)}


def _legal_aid(reader: _RowReader, day: date, village_id: str, identity: str) -> _Payload | None:
    at = _point_in_day(reader, day)
    if at is None:
        return None
    case_ref = reader.text(CASE_REF) or f"LEDGER-{identity[:16]}"
    return at, {"village_id": village_id, "case_ref": case_ref}


def _advice(reader: _RowReader, day: date, village_id: str, identity: str) -> _Payload | None:
    at = _point_in_day(reader, day)
    if at is None:
        return None
    return at, {"village_id": village_id, "subject": _label(reader, ADVICE)}


_PAYLOADS: Final[dict[str, Callable[[_RowReader, date, str, str], _Payload | None]]] = {
    DUTY: _duty,
    LECTURE: _lecture,
    MEDIATION: _mediation,
    CONSULTATION: _consultation,
    DOCUMENT: _document,
    LEGAL_AID: _legal_aid,
    ADVICE: _advice,
}


def events_of(rows: Sequence[MappedRow]) -> list[dict[str, Any]]:
    """The events of the rows that mapped, in row order."""
    return [r.event for r in rows if r.event is not None]
