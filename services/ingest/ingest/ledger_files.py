"""Reading a township ledger file (工作台账) — CSV or XLSX — into rows of named cells.

The heading row is found by its ``服务类型`` cell (title rows above it are
skipped); headings are matched after removing spaces and ``*`` and folding
full-width brackets, so ``村（社区）`` and ``村(社区)`` are the same column. Row
numbers are the ones the office sees in Excel (the first line is row 1).
CSV may be UTF-8 (with or without BOM) or GB18030/GBK, as Excel saves it on a
Chinese Windows, separated by commas, tabs or semicolons.

A ledger comes from outside, so reading it is bounded: at most ``2 × max_rows +
20`` non-blank lines and 1,048,576 lines in all (an Excel sheet's), the first 64
cells of each line, and an XLSX may unpack to at most 32 MiB (a zip bomb is
refused before anything is inflated). Without these a 10 MiB CSV of blank
lines, or a 56 KB XLSX with one cell in column XFD, took 8–20 s and ~1 GB of
memory to read.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

import openpyxl

DATE: Final = "日期"
ADVISOR_ID: Final = "顾问编号"
ADVISOR_NAME: Final = "顾问姓名"
VILLAGE: Final = "村（社区）"
SERVICE: Final = "服务类型"
START: Final = "开始时间"
END: Final = "结束时间"
MINUTES: Final = "时长（分钟）"
CHANNEL: Final = "渠道"
COUNT: Final = "人数"
RESULT: Final = "结果"
REMARKS: Final = "备注"
CASE_REF: Final = "案号"
SERIAL: Final = "序号"

REQUIRED_COLUMNS: Final = (DATE, ADVISOR_ID, VILLAGE, SERVICE)
COLUMNS: Final = (
    SERIAL,
    DATE,
    ADVISOR_NAME,
    ADVISOR_ID,
    VILLAGE,
    SERVICE,
    START,
    END,
    MINUTES,
    CHANNEL,
    COUNT,
    RESULT,
    REMARKS,
    CASE_REF,
)
"""Every column the importer reads, in the sample ledger's order."""

_ALIASES: Final[dict[str, str]] = {
    "序号": SERIAL,
    "日期": DATE,
    "服务日期": DATE,
    "顾问姓名": ADVISOR_NAME,
    "法律顾问": ADVISOR_NAME,
    "法律顾问姓名": ADVISOR_NAME,
    "顾问编号": ADVISOR_ID,
    "法律顾问编号": ADVISOR_ID,
    "村(社区)": VILLAGE,
    "村(社区)编号": VILLAGE,
    "村/社区": VILLAGE,
    "服务村(社区)": VILLAGE,
    "服务类型": SERVICE,
    "服务类别": SERVICE,
    "开始时间": START,
    "结束时间": END,
    "时长(分钟)": MINUTES,
    "时长": MINUTES,
    "渠道": CHANNEL,
    "服务渠道": CHANNEL,
    "服务方式": CHANNEL,
    "人数": COUNT,
    "参加人数": COUNT,
    "结果": RESULT,
    "办理结果": RESULT,
    "备注": REMARKS,
    "案号": CASE_REF,
}
_HEADING_SEARCH_ROWS: Final = 20
_TOTAL_ROW_MARKERS: Final = frozenset({"合计", "小计", "总计"})
_XLSX_MAGIC: Final = b"PK\x03\x04"
MAX_COLUMNS: Final = 64
"""Cells after the 64th of a row are not read (a ledger has about 14 columns)."""
MAX_XLSX_INFLATED_BYTES: Final = 32 * 1024 * 1024
"""Largest total unpacked size of an XLSX's parts (a 10,000-row ledger unpacks to ~8 MiB)."""
MAX_LINES: Final = 1_048_576
"""Most lines of a file, blank ones included: an Excel sheet's row limit."""
_BLANK: Final[tuple[Cell, ...]] = ()
"""Largest total unpacked size of an XLSX's parts (a 10,000-row ledger unpacks to ~8 MiB)."""

Cell = str | int | float | bool | date | datetime | time | None


class LedgerFileError(ValueError):
    """The file as a whole cannot be imported; ``status`` is the HTTP status to answer."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class SheetRow:
    """One data row: its row number and its cells by column (canonical heading)."""

    number: int
    cells: dict[str, Cell]


@dataclass(frozen=True)
class LedgerSheet:
    """The data rows of a ledger and the headings that were not understood."""

    rows: list[SheetRow]
    ignored_columns: list[str]


def canonical_heading(text: str) -> str | None:
    """The column a heading names, or ``None`` when the importer does not read it."""
    folded = re.sub(r"[\s*＊]", "", text).replace("（", "(").replace("）", ")")
    return _ALIASES.get(folded)


def read_ledger(data: bytes, filename: str, max_rows: int) -> LedgerSheet:
    """Read a CSV or XLSX ledger (by extension, else by content)."""
    suffix = Path(filename).suffix.lower()
    max_lines = 2 * max_rows + _HEADING_SEARCH_ROWS
    if suffix == ".xlsx" or (suffix != ".csv" and data.startswith(_XLSX_MAGIC)):
        lines = _xlsx_lines(data, max_rows, max_lines)
    else:
        lines = _csv_lines(data, max_rows, max_lines)
    return _sheet(lines, max_rows)


def _bounded(
    lines: Iterable[Sequence[Cell]], max_rows: int, max_filled: int
) -> list[Sequence[Cell]]:
    """The lines cut to :data:`MAX_COLUMNS` cells; refused past ``max_filled`` non-blank lines.

    Blank lines stay (row numbers count them) as one shared empty tuple each.
    """
    read: list[Sequence[Cell]] = []
    filled = 0
    for line in itertools.islice(lines, MAX_LINES + 1):
        cells = line[:MAX_COLUMNS]
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            read.append(_BLANK)
            continue
        filled += 1
        if filled > max_filled:
            raise LedgerFileError(
                "too_many_rows",
                f"at most {max_rows} rows per ledger: this file has more than {max_filled} "
                "non-blank lines",
                413,
            )
        read.append(cells)
    if len(read) > MAX_LINES:
        raise LedgerFileError(
            "too_many_rows", f"a ledger may have at most {MAX_LINES} lines (Excel's limit)", 413
        )
    return read


def _csv_lines(
    data: bytes, max_rows: int = MAX_LINES, max_lines: int = MAX_LINES
) -> list[Sequence[Cell]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise LedgerFileError("bad_encoding", "the CSV is neither UTF-8 nor GB18030/GBK")
    parsed: list[Sequence[Cell]] = []
    for delimiter in (",", "\t", ";"):
        try:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            parsed = _bounded(reader, max_rows, max_lines)
        except csv.Error as error:
            raise LedgerFileError("bad_csv", f"the CSV cannot be read: {error}") from None
        # The delimiter is the one that makes a heading row appear.
        if _heading_index(parsed) is not None:
            return parsed
    return parsed


def _xlsx_lines(data: bytes, max_rows: int, max_lines: int) -> list[Sequence[Cell]]:
    try:
        _check_inflated_size(data)
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets = [
                _bounded(ws.iter_rows(values_only=True, max_col=MAX_COLUMNS), max_rows, max_lines)
                for ws in workbook.worksheets
            ]
        finally:
            workbook.close()
    except LedgerFileError:
        raise
    except Exception as error:
        # openpyxl parses zip, XML and cell values lazily, so a hostile file can raise
        # almost anything (BadZipFile, ParseError, KeyError, ValueError, OverflowError…).
        raise LedgerFileError(
            "bad_xlsx", f"the XLSX cannot be read ({type(error).__name__})"
        ) from None
    for lines in sheets:
        if _heading_index(lines) is not None:
            return lines
    return sheets[0] if sheets else []


def _check_inflated_size(data: bytes) -> None:
    """Refuse a zip bomb from its directory; zipfile never inflates past a declared size."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        inflated = sum(info.file_size for info in archive.infolist())
    if inflated > MAX_XLSX_INFLATED_BYTES:
        raise LedgerFileError(
            "xlsx_too_large",
            f"the XLSX unpacks to more than {MAX_XLSX_INFLATED_BYTES // (1024 * 1024)} MiB",
            413,
        )


def _heading_index(lines: Sequence[Sequence[Cell]]) -> int | None:
    for i, line in enumerate(lines[:_HEADING_SEARCH_ROWS]):
        if any(isinstance(c, str) and canonical_heading(c) == SERVICE for c in line):
            return i
    return None


def _sheet(lines: list[Sequence[Cell]], max_rows: int) -> LedgerSheet:
    heading_at = _heading_index(lines)
    if heading_at is None:
        raise LedgerFileError(
            "missing_columns",
            f"no heading row with {SERVICE} in the first {_HEADING_SEARCH_ROWS} rows",
        )
    columns: dict[int, str] = {}
    ignored: list[str] = []
    for position, heading in enumerate(lines[heading_at]):
        text = "" if heading is None else str(heading).strip()
        if not text:
            continue
        column = canonical_heading(text)
        if column is None:
            ignored.append(text)
        elif column in columns.values():
            raise LedgerFileError("duplicate_columns", f"two columns are headed {column}")
        else:
            columns[position] = column
    missing = [c for c in REQUIRED_COLUMNS if c not in columns.values()]
    if missing:
        raise LedgerFileError("missing_columns", f"missing column(s): {', '.join(missing)}")
    rows = list(_data_rows(lines, heading_at, columns))
    if len(rows) > max_rows:
        raise LedgerFileError("too_many_rows", f"at most {max_rows} rows per ledger", 413)
    return LedgerSheet(rows=rows, ignored_columns=ignored)


def _data_rows(
    lines: list[Sequence[Cell]], heading_at: int, columns: dict[int, str]
) -> Iterable[SheetRow]:
    for offset, line in enumerate(lines[heading_at + 1 :]):
        cells = {
            column: _clean(line[position]) if position < len(line) else None
            for position, column in columns.items()
        }
        values = [v for v in (_clean(c) for c in line) if v is not None]
        if not values or (isinstance(values[0], str) and values[0] in _TOTAL_ROW_MARKERS):
            continue
        yield SheetRow(number=heading_at + offset + 2, cells=cells)


def _clean(cell: Any) -> Cell:
    if isinstance(cell, str):
        return cell.strip() or None
    value: Cell = cell
    return value


def csv_to_xlsx(csv_path: Path, xlsx_path: Path) -> None:
    """Write the XLSX twin of a CSV ledger, with real date, time and number cells.

    This is how ``samples/ledger-sample.xlsx`` is made: the file an office
    keeps in Excel, with the same rows as the CSV.
    """
    lines = _csv_lines(csv_path.read_bytes())
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "工作台账"
    for line in lines:
        sheet.append([_typed(value) for value in line])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, time):
                cell.number_format = "hh:mm"
    workbook.save(xlsx_path)


def _typed(value: Cell) -> Cell:
    if not isinstance(value, str):
        return value
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return datetime.fromisoformat(value)
    if re.fullmatch(r"[0-9]{1,2}:[0-9]{2}", value):
        return time.fromisoformat(value.zfill(5))
    if re.fullmatch(r"[0-9]{1,6}", value):
        return int(value)
    return value
