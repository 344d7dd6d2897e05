"""The one machine-readable line each benchmark prints per figure, for bench/run_all.py.

    RESULT {"name": ..., "figure": ..., "unit": ..., "target": ..., "floor": ..., "met": ..., "note": ...}

`target` is the figure the issue asks for (a bound: `figure <= target` unless `higher_is_better`), `floor` the
least any implementation needs on the same machine in the same run, where one exists (None otherwise).
"""
import json
import subprocess
import sys

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


#: The loop speed_check times, as a script of its own (its variables are globals, as in the first measurements).
SPEED_LOOP = ("import time\nt = time.perf_counter()\ns = 0\nfor i in range(10_000_000):\n    s += i\n"
              "print(time.perf_counter() - t)")


def speed_check() -> str:
    """Seconds of a fixed loop of pure Python (ten million additions at a script's top level, best of 3): how fast
    this machine's core was just then, next to the figures. The host's CPU and the other tenants' work both move it,
    and every figure with it: 0.54 s on a quiet Intel Xeon host of this kind, 0.66-1.61 s on an AMD EPYC one (both
    on 2026-12-07)."""
    best = min(float(subprocess.run([sys.executable, "-c", SPEED_LOOP], capture_output=True, text=True,
                                    check=True).stdout) for _ in range(3))
    return f"{best:.2f} s (a quiet Intel Xeon host of this kind: 0.54 s)"
