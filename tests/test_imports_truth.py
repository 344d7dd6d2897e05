"""The center's sample generator (../shared/samples/gen_push.py, present in CI, not on a user's machine):
every format and header set imports with exactly the verdicts its --truth file gives."""
import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dissuasion.directory.operations import load_directory
from dissuasion.extensions import db
from dissuasion.imports.pipeline import analyse, import_file

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
pytestmark = pytest.mark.skipif(not (SAMPLES / "gen_push.py").exists(),
                                reason="../shared/samples is not here (it is in CI): sample-generator check skipped")


@pytest.fixture
def sample_directory(app):
    load_directory((SAMPLES / "directory.csv").read_bytes())
    db.session.commit()


def _generate(tmp_path, fmt: str, headers: str, seed: int) -> tuple[Path, list[dict]]:
    suffix = "xlsx" if fmt == "xlsx" else "csv"
    out, truth = tmp_path / f"push-{seed}.{suffix}", tmp_path / f"truth-{seed}.json"
    subprocess.run([sys.executable, str(SAMPLES / "gen_push.py"), "--rows", "1500", "--seed", str(seed),
                    "--format", fmt, "--headers", headers, "--bad-rate", "0.15", "--out", str(out),
                    "--truth", str(truth)], check=True)
    return out, json.loads(truth.read_text(encoding="utf-8"))


@pytest.mark.parametrize("fmt", ["csv", "csv-gbk", "xlsx"])
@pytest.mark.parametrize("headers", ["standard", "alias"])
def test_sample_pushes_get_exactly_the_truth_files_verdicts(sample_directory, tmp_path, fmt, headers):
    path, truth = _generate(tmp_path, fmt, headers, seed=len(fmt) * 10 + len(headers))
    data = path.read_bytes()
    ours = {r.row_number: r for r in analyse(path.name, data).results}
    assert set(ours) == {t["row"] for t in truth}
    wrong = [(t["row"], t["class"], t["reason"], ours[t["row"]].verdict, [str(p.code) for p in ours[t["row"]].problems])
             for t in truth if ours[t["row"]].verdict != t["class"]
             or (t["reason"] and t["reason"] not in [str(p.code) for p in ours[t["row"]].problems])]
    assert wrong == []
    summary = import_file(path.name, data)
    db.session.commit()
    classes = collections.Counter(t["class"] for t in truth)
    assert summary.counters["rejected"] == classes["rejected"]
    assert summary.counters["unrouted"] == classes["unrouted"]
    assert summary.counters["imported"] == len(truth) - classes["rejected"] - classes["duplicate"]
    assert summary.counters["flagged"] == classes["flagged"]
