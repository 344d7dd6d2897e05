#!/usr/bin/env python3
"""The import's speed guard for CI (issue 23: no silent regressions): 10,000 rows from gen_push.py, imported into
an empty SQLite database beside ../shared/bench/floor.py on the same file, in the same run, several rounds
alternating the two; the best round of each is compared, so a busy moment of the machine counts against neither.
Exits 1 when ours is more than --limit times the floor.

usage: .venv/bin/python bench/ci_import.py [--rows 10000] [--rounds 5] [--limit 13]
The limit has room for noise: a regression that makes judging or merging a row markedly slower crosses it, the
machine's mood does not. Prints one RESULT line (bench/results.py) and a sentence.

Why 13 (re-set for issue 23, 2026-12-06): at 10,000 rows the floor takes 0.09-0.10 s, so a few hundredths of a
second of the machine's mood move the ratio by one. Measured the same day, best of 5, alternating, on 2 cores
shared with other work (load average 5-7): before the issue's import work 9.3x, 11.6x, 10.4x, 10.1x (ours
0.81-1.16 s); after it 10.4x and 9.5x (ours 0.73-0.85 s). At this size the work issue 23 cut barely shows: the
per-file reading of repeated texts saves less on 10,000 rows, the indexes are built after the rows only from
10,000 written rows, and start-up is outside this timing. 13x is about a quarter above the worst measured after: a
regression that costs every row a quarter more (judging or merging) crosses it.
"""
import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.import_push import SHARED, fresh_schema, run_floor, run_ours  # noqa: E402
from bench.results import emit  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--limit", type=float, default=13.0, help="fail above this many times the floor")
    args = ap.parse_args()
    if not (SHARED / "bench" / "floor.py").exists():
        print(f"ci_import: {SHARED} is not here; the import guard needs ../shared (CI has it)")
        return 0
    work = Path(tempfile.mkdtemp(prefix="ci-import-"))
    push = work / f"push{args.rows}.csv"
    subprocess.run([sys.executable, str(SHARED / "samples" / "gen_push.py"), "--rows", str(args.rows), "--format",
                    "csv", "--seed", "47", "--out", str(push)], check=True, capture_output=True)
    floors, ours = [], []
    for _round in range(args.rounds):
        floors.append(run_floor(push))
        target = work / "target.db"
        fresh_schema(target)
        ours.append(run_ours(push, target)["seconds"])
    ratio = min(ours) / min(floors)
    emit(f"import {args.rows:,} CSV rows (best of {args.rounds}), times the floor", round(ratio, 2), "x",
         target=args.limit, note=f"ours {min(ours):.2f} s, floor {min(floors):.2f} s")
    verdict = "ok" if ratio <= args.limit else "TOO SLOW"
    print(f"import {args.rows:,} rows: ours {min(ours):.2f}s, floor {min(floors):.2f}s = {ratio:.1f}x "
          f"(limit {args.limit:g}x): {verdict}")
    return 0 if ratio <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
