"""ID and phone numbers are encrypted at rest (AES-GCM, keys with ids) and can be re-encrypted under a new key."""
import os
import threading
import time

import pytest
from sqlalchemy import Text, select, type_coerce

from dissuasion import config
from dissuasion.cases.models import Person
from dissuasion.core.auditlog import AuditEvent
from dissuasion.extensions import db
from dissuasion.privacy.pii import PIIKeyError, check_keys, decrypt, encrypt

ID_NUMBER = "33990119850101123X"
PHONE = "13912345678"


def _stored(person_id: int) -> tuple[str, str]:
    """What the database itself holds in the person's ID and phone columns."""
    row = db.session.execute(select(type_coerce(Person.id_number, Text), type_coerce(Person.phone, Text))
                             .where(Person.id == person_id)).one()
    return row[0], row[1]


def test_numbers_are_stored_encrypted_and_read_back_plain(make_case):
    case = make_case(id_number=ID_NUMBER, phone=PHONE)
    stored_id, stored_phone = _stored(case.person_id)
    assert stored_id.startswith("v1:k2:") and stored_phone.startswith("v1:k2:")
    assert ID_NUMBER not in stored_id and PHONE not in stored_phone
    db.session.expire_all()
    person = db.session.get(Person, case.person_id)
    assert (person.id_number, person.phone) == (ID_NUMBER, PHONE)
    assert person.id_number_masked == "3399**********123X"


def test_same_number_encrypts_differently_each_time(app):
    assert encrypt(PHONE) != encrypt(PHONE)
    assert decrypt(encrypt(PHONE)) == PHONE


def test_a_value_written_with_an_older_key_still_reads(app):
    app.config["PII_KEY_ID"] = "k1"
    old = encrypt(ID_NUMBER)
    app.config["PII_KEY_ID"] = "k2"
    assert old.startswith("v1:k1:") and decrypt(old) == ID_NUMBER


def test_a_missing_key_is_a_clear_error_not_garbage(app):
    with pytest.raises(PIIKeyError, match="k9"):
        decrypt("v1:k9:AAAA")
    tampered = encrypt(PHONE)[:-4] + "AAAA"
    with pytest.raises(PIIKeyError, match="无法解密"):
        decrypt(tampered)


@pytest.mark.parametrize("keys,current", [({}, "k1"), ({"k1": "c2hvcnQ="}, "k1"), ({"k1": "!!"}, "k1"),
                                          ({"k1": config.new_pii_key()}, "k2")])
def test_the_app_refuses_to_start_with_unusable_keys(keys, current):
    with pytest.raises(PIIKeyError):
        check_keys({"PII_KEYS": keys, "PII_KEY_ID": current})


def test_rotate_reencrypts_old_and_plain_values_under_the_current_key(app, runner, make_case):
    app.config["PII_KEY_ID"] = "k1"
    old = make_case(id_number=ID_NUMBER, phone=PHONE)
    app.config["PII_KEY_ID"] = "k2"
    legacy = make_case(phone="13700001111")
    # A value written before encryption existed: plain text in the column.
    db.session.execute(Person.__table__.update().where(Person.id == legacy.person_id)
                       .values(phone=type_coerce("13700001111", Text)))
    db.session.commit()
    assert _stored(legacy.person_id)[1] == "13700001111"
    result = runner.invoke(args=["pii", "rotate"])
    assert result.exit_code == 0, result.output
    for person_id in (old.person_id, legacy.person_id):
        assert all(value.startswith("v1:k2:") for value in _stored(person_id) if value)
    db.session.expire_all()
    assert db.session.get(Person, old.person_id).id_number == ID_NUMBER
    assert db.session.get(Person, legacy.person_id).phone == "13700001111"
    assert "重新加密 3 个号码" in result.output
    assert db.session.scalar(select(AuditEvent).filter_by(action="pii_rotate")).detail["values"] == 3
    assert "重新加密 0 个号码" in runner.invoke(args=["pii", "rotate"]).output


def test_rotate_with_a_new_key_appends_it_to_the_instance_config(app, runner, make_case, tmp_path, monkeypatch):
    monkeypatch.delenv("PII_KEYS", raising=False)
    app.instance_path = str(tmp_path)
    path = config.ensure_instance_config(str(tmp_path))
    app.config.update(PII_KEYS=_load(path)["PII_KEYS"], PII_KEY_ID="k1")
    make_case(id_number=ID_NUMBER, phone=PHONE)
    result = runner.invoke(args=["pii", "rotate", "--new-key"])
    assert result.exit_code == 0, result.output
    loaded = _load(path)
    assert loaded["PII_KEY_ID"] == "k2" and set(loaded["PII_KEYS"]) == {"k1", "k2"}
    person = db.session.scalar(select(Person))
    assert _stored(person.id)[0].startswith("v1:k2:")
    db.session.expire_all()
    assert person.id_number == ID_NUMBER


def _load(path) -> dict:
    from flask import Config

    loaded = Config(str(path.parent))
    loaded.from_pyfile(str(path))
    return loaded


def test_first_start_writes_keys_and_an_old_install_gets_them_appended(tmp_path):
    fresh = config.ensure_instance_config(str(tmp_path / "new"))
    values = _load(fresh)
    check_keys(values)
    assert values["PII_KEY_ID"] == "k1" and values["SECRET_KEY"]
    assert oct(os.stat(fresh).st_mode & 0o777) == "0o600"
    old = tmp_path / "old" / "config.py"
    old.parent.mkdir()
    old.write_text("SECRET_KEY = 'kept'\nPII_INDEX_KEY = 'kept-too'\n", encoding="utf-8")
    config.ensure_instance_config(str(old.parent))
    values = _load(old)
    assert values["SECRET_KEY"] == "kept" and values["PII_INDEX_KEY"] == "kept-too"
    check_keys(values)
    before = old.read_text(encoding="utf-8")
    config.ensure_instance_config(str(old.parent))
    assert old.read_text(encoding="utf-8") == before  # the key is written once, never replaced


def test_workers_starting_at_once_on_a_fresh_install_all_get_the_same_keys(tmp_path, monkeypatch):
    """gunicorn starts its workers together; each must encrypt with the key that stays in the file."""
    slow_lines = config.pii_key_lines

    def pii_key_lines(key_id, first):  # widen the window between "no file yet" and the write
        time.sleep(0.05)
        return slow_lines(key_id, first)

    monkeypatch.setattr(config, "pii_key_lines", pii_key_lines)
    start, seen = threading.Barrier(6), []

    def worker():
        start.wait()
        seen.append(_load(config.ensure_instance_config(str(tmp_path)))["PII_KEYS"])

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 6 and all(keys == _load(tmp_path / "config.py")["PII_KEYS"] for keys in seen)


def test_the_database_file_holds_no_plain_id_or_phone_number(make_case, database_file_bytes):
    numbers = [("11010519491231002X", "13811112222"), ("33990119850101123X", "15933334444")]
    for id_number, phone in numbers:
        make_case(id_number=id_number, phone=phone, name="李四")
    db.session.commit()
    data = database_file_bytes()
    assert "李四".encode() in data  # the file was really read
    for id_number, phone in numbers:
        assert id_number.encode() not in data and phone.encode() not in data
        assert phone[:3].encode() + b"****" not in data  # not even masked copies in logs or events


def test_the_totp_secret_is_stored_encrypted_and_still_verifies_codes(client, make_user, database_file_bytes):
    import pyotp

    from dissuasion.auth.models import User
    from tests.conftest import PASSWORD
    user = make_user("center", username="center-secret")
    secret = user.totp_secret
    db.session.commit()
    data = database_file_bytes()
    assert b"center-secret" in data and secret.encode() not in data
    stored = db.session.execute(db.text("SELECT totp_secret FROM users WHERE id = :id"), {"id": user.id}).scalar()
    assert stored.startswith("v1:") and db.session.get(User, user.id).totp_secret == secret
    client.post("/login", data={"username": "center-secret", "password": PASSWORD})
    assert client.post("/login/totp", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get("/cases/county").status_code == 200
