"""flask backup / restore: a consistent copy of the running database, and back again; both audited."""
import pytest

from dissuasion.cases.models import Case, Person
from dissuasion.core.auditlog import AuditEvent
from dissuasion.extensions import db


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_backup_then_restore_brings_the_data_back(runner, make_case, tmp_path):
    kept_person_id = make_case(name="留下的人", id_number="33990119850101123X", phone="13912345678").person_id
    out = tmp_path / "nightly" / "backup.db"
    result = runner.invoke(args=["backup", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and oct(out.stat().st_mode & 0o777) == "0o600"
    assert "instance/config.py" in result.output  # the keys must be backed up too
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="backup")).detail["sha256"]
    make_case(name="备份之后的人")
    assert _count(Case) == 2
    refused = runner.invoke(args=["restore", str(out)], input="n\n")
    assert refused.exit_code != 0 and _count(Case) == 2
    result = runner.invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert _count(Case) == 1
    person = db.session.get(Person, kept_person_id)
    assert person.name == "留下的人" and person.id_number == "33990119850101123X"
    # The restored trail is the backup's (events after the backup went with the data), plus the restore.
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-1] == "restore"


def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, make_case, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the SQLite check; pg_restore refuses such a file itself")
    make_case()
    junk = tmp_path / "not-a-backup.db"
    junk.write_bytes(b"hello, this is not a database" * 100)
    result = runner.invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code != 0 and "不是" in result.output
    db.session.remove()
    assert _count(Case) == 1


def test_a_missing_pg_dump_is_a_clear_error(app, monkeypatch):
    from sqlalchemy.engine import make_url

    from dissuasion.cli import maintenance

    monkeypatch.setattr(maintenance.shutil, "which", lambda tool: None)
    with pytest.raises(maintenance.BackupError, match="未找到 pg_dump.*postgresql-client"):
        maintenance._pg_command("pg_dump", make_url("postgresql+psycopg://u:secret@db.example:5433/county"))
    monkeypatch.setattr(maintenance.shutil, "which", lambda tool: "/usr/bin/" + tool)
    args, env = maintenance._pg_command("pg_dump", make_url("postgresql+psycopg://u:secret@db.example:5433/county"))
    assert args == ["pg_dump", "--no-password", "-d", "county", "-h", "db.example", "-p", "5433", "-U", "u"]
    assert env["PGPASSWORD"] == "secret" and "secret" not in " ".join(args)  # never on the command line
