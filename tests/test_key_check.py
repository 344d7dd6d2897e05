"""A host with other keys than the database was written with refuses to start (issue 23 item 3: keys from the
environment, the same on every host). Before, a host started without them wrote fresh keys and ran: what it
encrypted could be read nowhere else, and it indexed persons with another key, so one person became two."""
import base64
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from dissuasion.cases.models import Person
from dissuasion.extensions import db
from dissuasion.privacy.keycheck import check_against_database
from dissuasion.privacy.models import KeyCheck
from dissuasion.privacy.pii import PIIKeyError
from tests.conftest import process_env

ROOT = Path(__file__).resolve().parents[1]
OTHER_KEY = base64.b64encode(b"another host's key, 32 bytes...!").decode()


def other_keys(app, **changed) -> dict:
    """The app's config with some keys as another host would have written them."""
    config = dict(app.config)
    if "index" in changed:
        config["PII_INDEX_KEY"] = changed["index"]
    if "pii" in changed:
        config["PII_KEYS"] = {**config["PII_KEYS"], **changed["pii"]}
    return config


def refused(config) -> str:
    with pytest.raises(PIIKeyError) as raised:
        check_against_database(config)
    return str(raised.value)


def test_the_first_start_records_the_keys_and_a_host_with_other_ones_is_refused(app):
    check_against_database(app.config)  # (k1 encrypts nothing yet and is not the current key: not recorded)
    assert set(db.session.scalars(select(KeyCheck.name))) == {"PII_INDEX_KEY", "PII_KEYS:k2"}

    message = refused(other_keys(app, index="a key this host wrote itself"))
    assert "PII_INDEX_KEY" in message and "拒绝启动" in message and "复制到本机" in message
    assert "PII_KEYS:k2" in refused(other_keys(app, pii={"k2": OTHER_KEY}))
    check_against_database(app.config)  # the hosts with the right keys go on starting


def test_a_key_made_current_is_recorded_by_the_first_host_that_has_it(app):
    check_against_database(app.config)
    check_against_database({**other_keys(app, pii={"k3": OTHER_KEY}), "PII_KEY_ID": "k3"})  # (a rotation begins)
    assert db.session.scalar(select(KeyCheck.verifier).filter_by(name="PII_KEYS:k3"))
    assert "PII_KEYS:k3" in refused(other_keys(app, pii={"k3": base64.b64encode(b"x" * 32).decode()}))


def test_an_extra_key_nothing_uses_locks_nobody_out(app):
    """(review: a host with one more key than the others, unused, recorded it, and every other host was then
    refused for lacking it)"""
    check_against_database(app.config)
    check_against_database(other_keys(app, pii={"k3": OTHER_KEY}))
    assert db.session.scalar(select(KeyCheck.name).filter_by(name="PII_KEYS:k3")) is None
    check_against_database(app.config)


def test_notes_encrypted_under_an_old_key_are_read_before_it_is_recorded(app, make_case):
    """(review: only the numbers' columns were looked at, so a host with a wrong old key, under which only notes
    were stored, recorded it)"""
    from dissuasion.cases.models import Case

    case = make_case(id_number="11010519491231002X", phone="13800138000")
    app.config["PII_KEY_ID"] = "k1"
    db.session.get(Case, case.id).return_request_reason = "本人电话 13900139000 打不通"  # (FreeText: under k1)
    db.session.commit()
    app.config["PII_KEY_ID"] = "k2"
    assert "PII_KEYS:k1" in refused(other_keys(app, pii={"k1": OTHER_KEY}))
    assert db.session.scalar(select(KeyCheck.name)) is None


def test_an_existing_database_records_only_keys_that_read_what_it_holds(app, make_case):
    """The first start after this check came: key_checks is empty, but numbers are stored. A host whose keys cannot
    read them must not become the reference."""
    make_case(id_number="11010519491231002X", phone="13800138000")
    assert db.session.scalar(select(Person.id_index))

    assert "PII_KEYS:k2" in refused(other_keys(app, pii={"k2": OTHER_KEY}))  # the current key, another value
    assert "PII_INDEX_KEY" in refused(other_keys(app, index="a key this host wrote itself"))
    assert db.session.scalar(select(KeyCheck.name)) is None  # nothing recorded by a refused host

    check_against_database(app.config)
    assert db.session.scalar(select(KeyCheck.name).filter_by(name="PII_INDEX_KEY"))
    assert "PII_KEYS:k2" in refused(other_keys(app, pii={"k2": OTHER_KEY}))


def test_a_refused_host_records_nothing(app):
    """(review: a refused host used to record its new keys before comparing, and a later `pii rotate` of the right
    hosts, taking that id, then locked them all out)"""
    check_against_database(app.config)
    config = other_keys(app, index="a key this host wrote itself", pii={"k3": OTHER_KEY})
    assert "PII_INDEX_KEY" in refused(config)
    assert db.session.scalar(select(KeyCheck.name).filter_by(name="PII_KEYS:k3")) is None


def test_a_host_without_a_key_the_database_uses_is_refused(app):
    """(review: a host whose only key had another id was accepted, recorded it and wrote numbers under it that the
    other hosts could not read)"""
    check_against_database(app.config)
    config = {**app.config, "PII_KEYS": {"k3": OTHER_KEY}, "PII_KEY_ID": "k3"}
    message = refused(config)
    assert "本机缺少数据库已在使用的 PII_KEYS:k2" in message
    assert db.session.scalar(select(KeyCheck.name).filter_by(name="PII_KEYS:k3")) is None


def test_a_first_start_whose_keys_cannot_read_the_stored_numbers_is_refused(app, make_case):
    """(review: numbers all under k2 after a rotation, key_checks empty: a fresh host with its own k1 and index key
    read nothing and checked nothing, so it was recorded, and the right hosts were then refused)"""
    make_case(id_number="11010519491231002X", phone="13800138000")  # stored under k2, the suite's current key
    fresh = {**app.config, "PII_KEYS": {"k1": OTHER_KEY}, "PII_KEY_ID": "k1", "PII_INDEX_KEY": "its own"}
    assert "PII_KEYS:k2" in refused(fresh)
    assert db.session.scalar(select(KeyCheck.name)) is None
    check_against_database(app.config)  # the right host is recorded, and starts
    assert db.session.scalar(select(KeyCheck.name).filter_by(name="PII_KEYS:k2"))


def test_pii_rotate_with_a_new_key_records_it(app, runner, make_case, tmp_path, monkeypatch):
    from dissuasion import config as app_config

    monkeypatch.delenv("PII_KEYS", raising=False)
    app.instance_path = str(tmp_path)
    path = app_config.ensure_instance_config(str(tmp_path))
    loaded = {}
    exec(path.read_text(encoding="utf-8"), loaded)
    app.config.update(PII_KEYS=loaded["PII_KEYS"], PII_KEY_ID="k1")
    make_case(id_number="11010519491231002X", phone="13800138000")
    check_against_database(app.config)
    result = runner.invoke(args=["pii", "rotate", "--new-key"])
    assert result.exit_code == 0, result.output
    assert "复制到其他主机" in result.output
    assert db.session.scalar(select(KeyCheck.verifier).filter_by(name="PII_KEYS:k2"))
    check_against_database(app.config)


def test_a_database_without_its_tables_yet_is_not_checked(app, tmp_path):
    """`flask db upgrade` on a new database starts the app before key_checks exists."""
    from dissuasion import create_app
    from tests.conftest import _test_config

    fresh = create_app(_test_config(f"sqlite:///{tmp_path / 'new.db'}"))
    with fresh.app_context():
        check_against_database(fresh.config)
        db.engine.dispose()


def test_a_process_started_with_other_keys_stops_with_the_message(app, database_url):
    """The deployed path: create_app checks before anything runs (a gunicorn worker that refuses fails to boot)."""
    check_against_database(app.config)
    db.session.commit()
    command = [str(Path(sys.executable).with_name("flask")), "--app", "app", "routes"]
    good = subprocess.run(command, cwd=ROOT, env=process_env(database_url), capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    env = process_env(database_url, PII_INDEX_KEY="a key this host wrote itself")
    bad = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert bad.returncode != 0
    assert "本机的密钥与数据库不符：PII_INDEX_KEY" in bad.stderr


def test_plain_numbers_from_before_encryption_prove_the_index_key(app, make_case):
    """(review: only encrypted numbers were read, so a database still holding plain ones checked no index key)"""
    from sqlalchemy import text

    make_case(id_number="11010519491231002X", phone="13800138000")
    db.session.execute(text("UPDATE persons SET id_number = '11010519491231002X', phone = '13800138000'"))
    db.session.commit()
    fresh = {**app.config, "PII_KEYS": {"k1": OTHER_KEY}, "PII_KEY_ID": "k1", "PII_INDEX_KEY": "its own"}
    assert "PII_INDEX_KEY" in refused(fresh)
    check_against_database(app.config)


def test_a_start_while_an_import_holds_the_database_starts_and_records_later(app, caplog):
    """SQLite: an import holds the write lock for seconds; a host starting then reads, compares, and starts, leaving
    its keys to be recorded by a later start."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock")
    import sqlite3

    from dissuasion.core.database import writing_briefly
    db.session.remove()
    importing = sqlite3.connect(db.engine.url.database, isolation_level=None)
    importing.execute("BEGIN IMMEDIATE")
    try:
        with writing_briefly(200):  # (the start's own wait is the 10 s busy timeout; the same error, sooner)
            check_against_database(app.config)
    finally:
        importing.execute("ROLLBACK")
        importing.close()
    assert "not recorded yet" in caplog.text
    assert not db.session.scalars(select(KeyCheck.name)).all()
    check_against_database(app.config)  # the next start records them
    assert set(db.session.scalars(select(KeyCheck.name))) == {"PII_INDEX_KEY", "PII_KEYS:k2"}


def test_a_start_on_a_broken_database_fails_with_what_is_wrong(app, monkeypatch, caplog):
    """(review: any database error while recording a key was taken for "busy", and the host started on a database
    it could not write)"""
    from sqlalchemy.exc import OperationalError

    def broken():
        raise OperationalError("INSERT INTO key_checks", {}, Exception("disk I/O error"))
    monkeypatch.setattr(db.session, "commit", broken)
    with pytest.raises(OperationalError, match="disk I/O error"):
        check_against_database(app.config)
    assert "busy" not in caplog.text
