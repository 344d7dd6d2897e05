"""Issue 22: what a bomb upload costs the server, and what keeping a preview's file encrypted costs.

For each bomb file of tests/test_upload_bounds.py (the 450 MB single-cell .xlsx of the finding among them), a fresh
process builds the app, reads the file, notes its peak RSS (ru_maxrss), analyses the file as the preview does, and
prints how far the peak rose and whether the file was refused; then the time of a preview's work on an ordinary
20,000-row list (analyse, keep the upload, load it back for the commit), median of 5.

    .venv/bin/python bench/upload_memory.py [--tree PATH] [--only NAME ...] [--timeout 120]

--tree runs the probes on another checkout's code (e.g. a `git worktree` of main, for the figures before the
change); the bomb files are always built by this checkout's tests. Target: every bomb refused, under 300 MB above
the baseline.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))

from bench.results import emit  # noqa: E402

PROBE = """
import json, resource, statistics, sys, time
from dissuasion import create_app
from dissuasion.extensions import db
from dissuasion.imports.pipeline import ImportRefused, analyse
from tests.conftest import _test_config
path, url, mode, folder = sys.argv[1:5]
app = create_app(_test_config(url))
app.config["IMPORT_UPLOAD_FOLDER"] = folder
with app.app_context():
    db.create_all()
    data = open(path, "rb").read()
    if mode == "bomb":
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            analyse(path.rsplit("/", 1)[-1], data)
            outcome = "accepted"
        except ImportRefused as exc:
            outcome = "refused: " + str(exc)[:60]
        rise = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(json.dumps({"outcome": outcome, "rise_mb": rise}))
    else:
        from dissuasion.auth.operations import create_user
        from dissuasion.core.enums import Role
        from dissuasion.imports import uploads
        user = create_user("bench", Role.CENTER, "bench-password-123")
        times, store = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            analyse("list.csv", data)
            t1 = time.perf_counter()
            upload = uploads.save_upload("list.csv", data, user)
            assert uploads.load_upload(upload.token, user).data == data
            t2 = time.perf_counter()
            uploads.discard_upload(upload.token)
            times.append(t2 - t0)
            store.append(t2 - t1)
        print(json.dumps({"preview_s": statistics.median(times), "store_s": statistics.median(store)}))
"""


def run_probe(tree: Path, path: Path, mode: str, timeout: int, work: Path) -> dict:
    try:
        done = subprocess.run([sys.executable, "-c", PROBE, str(path), f"sqlite:///{work / (path.stem + '.db')}",
                               mode, str(work / "uploads")], cwd=tree, capture_output=True, text=True,
                              timeout=timeout, check=False, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})
    except subprocess.TimeoutExpired:
        return {"outcome": f"still reading after {timeout} s (stopped)", "rise_mb": None}
    if done.returncode != 0:
        return {"outcome": f"process died ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}",
                "rise_mb": None}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=HERE)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--timeout", type=int, default=120)
    args = parser.parse_args()
    from tests import pushfiles as pf
    from tests.test_upload_bounds import BOMBS, RSS_BUDGET_MB

    label = "this tree" if args.tree.resolve() == HERE else str(args.tree)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, build in BOMBS.items():
            if args.only and name not in args.only:
                continue
            path = work / (name + (".csv" if name.startswith("csv") else ".xlsx"))
            path.write_bytes(build())
            result = run_probe(args.tree, path, "bomb", args.timeout, work)
            path.unlink()
            rise = result["rise_mb"]
            emit(f"bomb peak RSS rise: {name}", round(rise, 1) if rise is not None else -1, "MB", RSS_BUDGET_MB,
                 met=rise is not None and rise < RSS_BUDGET_MB and not result["outcome"].startswith("accepted"),
                 note=f"{label}: {result['outcome']}")
        if not args.only or "preview" in args.only:
            path = work / "list.csv"
            path.write_bytes(pf.csv_bytes([pf.row(n) for n in range(1, 20_001)]))
            result = run_probe(args.tree, path, "preview", args.timeout * 5, work)
            emit("preview of a 20,000-row CSV (analyse + keep + load back)", round(result["preview_s"], 3), "s",
                 None, note=f"{label}: keeping and loading the upload took {result['store_s'] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
