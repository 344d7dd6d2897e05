"""Two center staff commit pushes at the same moment (a city's center does): both land, and a person who is in both
files is still one person with one open case. On PostgreSQL two transactions can interleave, so before the fix the
second push failed on the persons' unique key and was lost whole (found by bench/load.py)."""
import threading
import time

from sqlalchemy import func, select

from dissuasion.cases import merge
from dissuasion.cases.models import Case, EarlyWarning, Person
from dissuasion.core.enums import CaseStatus
from dissuasion.extensions import db
from dissuasion.imports.pipeline import import_file
from tests import pushfiles as pf


def _in_threads(app, jobs: dict) -> dict:
    """Run each job in its own thread and app context; 'first' pauses inside its transaction once its new persons
    are written, and 'second' starts then, so the two transactions overlap."""
    written, results = threading.Event(), {}

    def pause_after_persons(stage):
        if stage == "persons" and threading.current_thread().name == "first":
            written.set()
            time.sleep(1.0)


    def run(name):
        if name == "second":
            written.wait(timeout=10)
        with app.app_context():
            try:
                results[name] = jobs[name]()
                db.session.commit()
            except Exception as exc:  # noqa: BLE001  (the test reports it)
                db.session.rollback()
                results[name] = exc

    db.session.commit()  # the test's own transaction would hold SQLite's write lock
    threads = [threading.Thread(target=run, args=(name,), name=name) for name in jobs]
    with merge.stage_written.connected_to(pause_after_persons):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return results


def test_two_pushes_with_the_same_person_committed_at_once_both_land(app, directory):
    first = pf.csv_bytes([pf.row(n) for n in range(1, 21)])
    second = pf.csv_bytes([pf.row(1, 预警编号="YJ-B-1")] + [pf.row(n, 预警编号=f"YJ-B-{n}") for n in range(30, 40)])
    results = _in_threads(app, {"first": lambda: import_file("a.csv", first),
                                "second": lambda: import_file("b.csv", second)})
    assert [getattr(results[n], "status", results[n]) for n in ("first", "second")] == ["committed", "committed"]
    assert db.session.scalar(select(func.count(EarlyWarning.id))) == 31
    person = db.session.scalar(select(Person).where(Person.id_number.is_not(None), Person.name == "测试1"))
    assert db.session.scalar(select(func.count(Person.id)).where(Person.name == "测试1")) == 1
    open_cases = list(db.session.scalars(select(Case).where(Case.person_id == person.id,
                                                            Case.status.in_(CaseStatus.open_values()))))
    assert len(open_cases) == 1 and len(open_cases[0].warnings) == 2


def test_the_same_file_committed_twice_at_once_is_imported_once(app, directory):
    data = pf.csv_bytes([pf.row(n) for n in range(1, 11)])
    results = _in_threads(app, {"first": lambda: import_file("a.csv", data),
                                "second": lambda: import_file("a-again.csv", data)})
    assert [getattr(results[n], "status", results[n]) for n in ("first", "second")] == ["committed",
                                                                                         "duplicate_file"]
    assert db.session.scalar(select(func.count(EarlyWarning.id))) == 10


def test_two_pushes_sharing_a_warning_number_committed_at_once_store_it_once(app, directory):
    """The preview's duplicate verdicts are read before the other push commits; the merge must look again."""
    first = pf.csv_bytes([pf.row(n) for n in range(1, 11)])
    second = pf.csv_bytes([pf.row(5)] + [pf.row(n) for n in range(20, 25)])
    results = _in_threads(app, {"first": lambda: import_file("a.csv", first),
                                "second": lambda: import_file("b.csv", second)})
    assert [getattr(results[n], "status", results[n]) for n in ("first", "second")] == ["committed", "committed"]
    assert db.session.scalar(select(func.count(EarlyWarning.id))) == 15
    assert db.session.scalar(select(func.count(EarlyWarning.id)).where(EarlyWarning.warning_no == "YJ0000005")) == 1
