#!/usr/bin/env python3
"""What the issue's acceptance compares the XLSX import with: pandas reads the workbook (read_excel with the fastest
engine installed: calamine, else openpyxl) and writes it with to_sql into a fresh SQLite database, with no
validation, no normalising, no persons or cases, nothing encrypted. Prints the wall seconds of read + write.

usage: .venv/bin/python bench/pandas_xlsx.py FILE.xlsx     (pandas is bench-only: requirements-dev.txt)
"""
import importlib.util
import sqlite3
import sys
import tempfile
import time
from pathlib import Path


def engine() -> str:
    return "calamine" if importlib.util.find_spec("python_calamine") else "openpyxl"


def run(path: Path) -> dict:
    import pandas as pd
    start = time.perf_counter()
    frame = pd.read_excel(path, engine=engine())
    read = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as work:
        con = sqlite3.connect(Path(work) / "pandas.db")
        frame.to_sql("warnings", con, index=False, chunksize=10_000)
        con.commit()
        con.close()
    return {"seconds": time.perf_counter() - start, "read": read, "rows": len(frame), "engine": engine()}


def main() -> None:
    result = run(Path(sys.argv[1]))
    print(f"pandas read_excel({result['engine']}) + to_sql: {result['rows']:,} rows in {result['seconds']:.2f}s "
          f"(read {result['read']:.2f}s)")


if __name__ == "__main__":
    main()
