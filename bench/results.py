"""The one machine-readable line each benchmark prints per figure, for bench/run_all.py.

    RESULT {"name": ..., "figure": ..., "unit": ..., "target": ..., "floor": ..., "met": ..., "note": ...}

`target` is the figure the issue asks for (a bound: `figure <= target` unless `higher_is_better`), `floor` the
least any implementation needs on the same machine in the same run, where one exists (None otherwise).
"""
import json

PREFIX = "RESULT "


def emit(name: str, figure: float, unit: str, target: float | None, floor: float | None = None,
         met: bool | None = None, note: str = "", higher_is_better: bool = False) -> dict:
    """Print one RESULT line; `met` defaults to the figure against the target."""
    if met is None and target is not None:
        met = figure >= target if higher_is_better else figure <= target
    row = {"name": name, "figure": figure, "unit": unit, "target": target, "floor": floor, "met": met,
           "note": note, "higher_is_better": higher_is_better}
    print(PREFIX + json.dumps(row, ensure_ascii=False), flush=True)
    return row


def parse(output: str) -> list[dict]:
    """Every RESULT line of a benchmark's output, in order."""
    return [json.loads(line[len(PREFIX):]) for line in output.splitlines() if line.startswith(PREFIX)]
