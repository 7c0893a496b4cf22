"""Regenerate ``ledger-sample.xlsx`` from ``ledger-sample.csv`` (same rows, real Excel cells).

.venv/bin/python services/ingest/samples/make_xlsx.py
"""

from __future__ import annotations

from pathlib import Path

from ingest.ledger_files import csv_to_xlsx

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    csv_to_xlsx(HERE / "ledger-sample.csv", HERE / "ledger-sample.xlsx")
    print(f"wrote {HERE / 'ledger-sample.xlsx'}")
