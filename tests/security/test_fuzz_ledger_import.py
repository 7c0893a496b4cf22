"""Malformed ledger files: every one is refused with an explained error, never a crash or a hang.

Hypothesis writes hostile CSV (bad encodings, BOMs, missing and extra columns,
huge cells, formula injection, NUL bytes, extreme dates and numbers) and
hostile XLSX (random bytes, truncated or corrupted zips, odd cell values). The
whole importer runs on each — read, map, check against the contract — and the
outcome is one of: the file is refused (``LedgerFileError`` with a code and a
message, answered 4xx), or every row is mapped to an event or to its reasons.
A few files also go through ``POST /v1/ledgers`` to see the HTTP answers.
"""

from __future__ import annotations

import csv
import io
import os
import time
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.auth import KeyRing, Scope
from ingest.bodies import RawEvent
from ingest.http import create_app
from ingest.ledger import CHECK_INS, CONSULTATION_CHANNELS, MEDIATION_OUTCOMES, map_ledger
from ingest.ledger_files import COLUMNS, LedgerFileError, LedgerSheet, read_ledger
from ingest.validation import Rejected, check_events
from tests.ingest.helpers import KEYS, FakePublisher, client_for, make_settings

pytestmark = pytest.mark.unit

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
MAX_ROWS = 200
SOURCE, COUNTY = "dongchong-ledger", "440115"
NOW = datetime(2025, 1, 10, tzinfo=UTC)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same files every run: a failure here is a bug, not bad luck
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PER_FILE_S = 5.0
"""A file that takes longer than this to refuse or map counts as a hang."""

# --- cells ---------------------------------------------------------------------

FORMULAS = ["=1+1", "=cmd|' /C calc'!A0", "+SUM(A1:A9)", "-2+3", "@SUM(1)", '=HYPERLINK("x")']
EXTREME_DATES = ["9999-12-31", "0001-01-01", "2024-02-30", "2024-13-01", "99999999", "1900/1/0"]
EXTREME_NUMBERS = ["9999999", "0", "-1", "1e308", "nan", "inf", "999999999999999999999", "1.5"]
VOCABULARY = [
    "驻村值班", "法治讲座", "人民调解", "法律咨询", "代写文书", "法律援助转介", "法律建议",
    *CONSULTATION_CHANNELS, *CHECK_INS, *MEDIATION_OUTCOMES, "未答复", "合计", "小计",
    "2024-03-05", "2024/3/5", "2024年3月5日", "20240305", "09:30", "9时30分", "23:59:59",
    "2024-03-07 08:30", "90分钟", "45人", "440115101001", "A-0001",
]  # fmt: skip
hostile_text = st.one_of(
    st.sampled_from(FORMULAS + EXTREME_DATES + EXTREME_NUMBERS + VOCABULARY),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", min_codepoint=0, max_codepoint=0x1F), max_size=8),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["a", "中", "\x00", '"', "\n"]), st.integers(0, 300)
    ),
)
cell_text = st.one_of(hostile_text, st.just(""))
headings = st.lists(
    st.one_of(
        st.sampled_from([*COLUMNS, "村(社区)", "服务类别", " 日 期 *", "时长", "村（社区）"]),
        st.text(max_size=10),
    ),
    min_size=0,
    max_size=16,
)


@st.composite
def csv_tables(draw: st.DrawFn) -> list[list[str]]:
    """A heading row (usually with the required columns) and rows of hostile cells."""
    heading = draw(headings)
    if draw(st.booleans()):
        heading = [*draw(st.permutations(list(COLUMNS))), *heading][: draw(st.integers(4, 20))]
    rows = draw(
        st.lists(
            st.lists(cell_text, min_size=0, max_size=len(heading) + 3),  # short and long rows
            max_size=12,
        )
    )
    titles = draw(st.lists(st.lists(cell_text, max_size=3), max_size=3))
    return [*titles, heading, *rows]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    table = draw(csv_tables())
    buffer = io.StringIO()
    delimiter = draw(st.sampled_from([",", "\t", ";", "|"]))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    csv.writer(buffer, delimiter=delimiter, lineterminator=ending).writerows(table)
    text = buffer.getvalue()
    encoding = draw(
        st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-32", "latin-1"])
    )
    data = text.encode(encoding, errors="replace")
    damage = draw(
        st.sampled_from(["none", "none", "truncate", "splice", "unbalanced_quote", "huge_cell"])
    )
    if damage == "truncate" and data:
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "splice":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=64)) + data[at:]
    elif damage == "unbalanced_quote":
        data += b'\n"' + b"x" * draw(st.integers(0, 1000))
    elif damage == "huge_cell":
        data += b"\n" + b"y" * draw(st.sampled_from([131_072, 200_000]))
    return data


# --- XLSX ----------------------------------------------------------------------

xlsx_values = st.one_of(
    cell_text,
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),
    st.times(),
)


def _workbook(rows: list[list[Any]], sheets: int) -> bytes:
    workbook = openpyxl.Workbook()
    for i in range(sheets):
        sheet = workbook.active if i == 0 else workbook.create_sheet(f"S{i}")
        for row in rows:
            sheet.append([_storable(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _storable(value: Any) -> Any:
    # openpyxl refuses control characters in strings; the file itself can still hold them.
    if isinstance(value, str):
        return "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 0x20)
    return value


@st.composite
def xlsx_files(draw: st.DrawFn) -> bytes:
    heading = draw(headings)
    if draw(st.booleans()):
        heading = list(COLUMNS)
    rows = draw(st.lists(st.lists(xlsx_values, max_size=len(heading) + 2), max_size=8))
    data = _workbook([heading, *rows], draw(st.integers(1, 2)))
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "random"]))
    if damage == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif damage == "flip":
        mutable = bytearray(data)
        for at in draw(st.lists(st.integers(0, len(data) - 1), min_size=1, max_size=20)):
            mutable[at] ^= draw(st.integers(1, 255))
        data = bytes(mutable)
    elif damage == "random":
        data = b"PK\x03\x04" + draw(st.binary(max_size=2000))
    return data


# --- the importer ----------------------------------------------------------------


def _scope() -> Scope:
    keyring = KeyRing.from_settings(make_settings(Path("/nonexistent")))
    scope = keyring.authenticate(KEYS["ledger"].plaintext)
    assert scope is not None
    return scope


SCOPE = _scope()


def _explained(error: LedgerFileError) -> None:
    assert error.code, "a refusal names its reason"
    assert str(error), "a refusal says why"
    assert error.status in (400, 413)


def _import(data: bytes, filename: str) -> LedgerSheet | LedgerFileError:
    """What ``POST /v1/ledgers`` does before publishing: read, map, check every event."""
    started = time.monotonic()
    try:
        sheet = read_ledger(data, filename, MAX_ROWS)
    except LedgerFileError as error:
        _explained(error)
        return error
    rows = map_ledger(sheet, source=SOURCE, county=COUNTY)
    assert len(rows) == len(sheet.rows)
    events = [r.event for r in rows if r.event is not None]
    outcomes = check_events(
        [RawEvent(value=e) for e in events], scope=SCOPE, pseudonymise=lambda c: c, now=NOW
    )
    for row in rows:
        assert (row.event is None) == bool(row.reasons), row
        for reason in row.reasons:
            assert reason.code, row
            assert reason.message, row
    for outcome in outcomes:
        if isinstance(outcome, Rejected):
            assert all(r.code and r.message for r in outcome.reasons), outcome
    assert time.monotonic() - started < PER_FILE_S, "reading this file took too long"
    return sheet


@FUZZ
@given(data=csv_files(), name=st.sampled_from(["ledger.csv", "ledger.txt", "ledger", "x.CSV"]))
def test_malformed_csv_is_refused_or_mapped_row_by_row(data: bytes, name: str) -> None:
    _import(data, name)


@FUZZ
@given(data=xlsx_files(), name=st.sampled_from(["ledger.xlsx", "ledger.bin", "x.XLSX"]))
def test_malformed_xlsx_is_refused_or_mapped_row_by_row(data: bytes, name: str) -> None:
    _import(data, name)


@FUZZ
@given(data=st.binary(max_size=4096), name=st.sampled_from(["a.csv", "a.xlsx", "a"]))
def test_random_bytes_are_refused_or_mapped(data: bytes, name: str) -> None:
    _import(data, name)


# --- regressions and hand-made files ---------------------------------------------

HEAD = "日期,顾问编号,村（社区）,服务类型,开始时间,结束时间,时长（分钟）,渠道,人数,结果,备注\n"


@pytest.mark.parametrize(
    "row",
    [
        # Regression: 开始时间 + 时长 past year 9999 raised OverflowError (a 500).
        "9999-12-31,A-1,V-1,驻村值班,23:00,,9999999,,,,",
        "9999-12-31,A-1,V-1,法治讲座,23:00,,90,,,,",
        "0001-01-01,A-1,V-1,法律咨询,00:00,,,,,,",
        "0001-01-01,A-1,V-1,人民调解,,,,,,调解成功,",
    ],
)
def test_extreme_dates_and_durations_are_reasons_not_crashes(row: str) -> None:
    sheet = _import((HEAD + row + "\n").encode(), "a.csv")
    assert isinstance(sheet, LedgerSheet)


def test_an_excel_duration_too_large_for_a_date_is_a_reason() -> None:
    data = _workbook(
        [
            HEAD.strip().split(","),
            [date(2024, 3, 5), "A-1", "V-1", "驻村值班", clock(9), None, 10**30],
        ],
        1,
    )
    sheet = read_ledger(data, "a.xlsx", MAX_ROWS)
    [row] = map_ledger(sheet, source=SOURCE, county=COUNTY)
    assert row.event is None
    assert [r.path for r in row.reasons] == ["$['时长（分钟）']"]


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _sheet_xml(rows: int, cells_per_row: int) -> bytes:
    row = "".join(f'<c t="inlineStr"><is><t>{i}</t></is></c>' for i in range(cells_per_row))
    body = f"<row>{row}</row>" * rows
    return (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>'
    ).encode()


def _xlsx_around(sheet: bytes) -> bytes:
    """A minimal workbook whose only sheet is ``sheet``."""
    template = zipfile.ZipFile(io.BytesIO(_workbook([["x"]], 1)))
    entries = {name: template.read(name) for name in template.namelist()}
    entries["xl/worksheets/sheet1.xml"] = sheet
    return _zip(entries)


BOMB = _xlsx_around(b"<" + b" " * (64 * 1024 * 1024) + b">")
"""64 MiB of sheet XML packed 1000:1 (a real bomb nests or repeats this; the check is the same)."""


def test_a_zip_bomb_is_refused_before_it_is_inflated() -> None:
    assert len(BOMB) < 128 * 1024
    started = time.monotonic()
    with pytest.raises(LedgerFileError) as refused:
        read_ledger(BOMB, "bomb.xlsx", 10_000)
    assert refused.value.code == "xlsx_too_large"
    assert refused.value.status == 413
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    ("name", "data"),
    [
        # Each took 8–21 s and ~1 GB of memory before reading was bounded.
        ("blank-lines.csv", HEAD.encode() + b"\n" * (10 * 1024 * 1024)),
        ("filled-lines.csv", HEAD.encode() + b"2024-03-05,A-1,V-1,x\n" * 50_000),
        ("wide.csv", b"," * (10 * 1024 * 1024) + b"\n" + HEAD.encode()),
        ("xfd.xlsx", None),
        ("tall.xlsx", _xlsx_around(_sheet_xml(30_000, 3))),
    ],
)
def test_files_too_big_to_read_are_refused_quickly(name: str, data: bytes | None) -> None:
    if data is None:  # one cell in the last column widens every row to 16,384 cells
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet.append(HEAD.strip().split(","))
        for _ in range(10_000):
            sheet.append(["2024-03-05"])
        sheet.cell(row=1, column=16_384, value="x")
        buffer = io.BytesIO()
        workbook.save(buffer)
        data = buffer.getvalue()
    started = time.monotonic()
    outcome = _import(data, name)
    assert time.monotonic() - started < PER_FILE_S
    if isinstance(outcome, LedgerFileError):
        assert outcome.code in ("too_many_rows", "missing_columns"), outcome


def test_a_corrupt_sheet_inside_a_valid_zip_is_refused() -> None:
    broken = _xlsx_around(b"<worksheet><sheetData><row><c><v>1</v></row>")
    with pytest.raises(LedgerFileError) as refused:
        read_ledger(broken, "broken.xlsx", 10_000)
    assert refused.value.code == "bad_xlsx"


# --- over HTTP --------------------------------------------------------------------


@pytest.fixture
async def ledger_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(tmp_path, max_events=MAX_ROWS), publisher=FakePublisher())
    async with client_for(app, KEYS["ledger"]) as client:
        yield client


SAMPLES = [
    ("empty.csv", b""),
    ("bom-only.csv", b"\xef\xbb\xbf"),
    ("utf16.csv", HEAD.encode("utf-16")),
    ("nul.csv", HEAD.encode() + b"2024-03-05,A-1,V\x00-1,\x00,\x00\n"),
    ("formula.csv", (HEAD + "=1+1,=cmd|' /C calc'!A0,@SUM(1),+1,,,,,,,\n").encode()),
    ("huge-cell.csv", HEAD.encode() + b"2024-03-05," + b"a" * 200_000 + b"\n"),
    ("truncated.xlsx", _workbook([HEAD.split(",")], 1)[:300]),
    ("random.xlsx", b"PK\x03\x04" + bytes(range(256)) * 4),
    ("bomb.xlsx", BOMB),
    ("corrupt-sheet.xlsx", _xlsx_around(b"<worksheet><sheetData><row><c><v>1</v></row>")),
]


@pytest.mark.parametrize(("name", "data"), SAMPLES, ids=[n for n, _ in SAMPLES])
async def test_hostile_ledger_uploads_get_an_explained_4xx_or_a_row_report(
    ledger_client: httpx.AsyncClient, name: str, data: bytes
) -> None:
    response = await ledger_client.post(
        "/v1/ledgers", files={"file": (name, data)}, data={"source": SOURCE, "county": COUNTY}
    )
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code == 202:
        assert body["rows"] == body["accepted"] + body["duplicate"] + body["rejected"]
    else:
        assert 400 <= response.status_code < 500
        assert body["error"]["code"], body
        assert body["error"]["message"], body


async def test_refusals_by_the_form_parser_and_router_have_the_documented_shape(
    ledger_client: httpx.AsyncClient,
) -> None:
    # Regression (schemathesis): these answered FastAPI's {"detail"}, not the ErrorBody
    # the OpenAPI document promises.
    fields = {f"f{i}": "x" for i in range(20)}
    many = await ledger_client.post("/v1/ledgers", files={"file": ("a.csv", b"x")}, data=fields)
    unknown = await ledger_client.get("/v1/nothing")
    wrong = await ledger_client.get("/v1/ledgers")
    for response, status, code in [
        (many, 400, "bad_request"),
        (unknown, 404, "not_found"),
        (wrong, 405, "method_not_allowed"),
    ]:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        assert response.json()["error"]["message"]
