"""Every host of one database must hold the same keys; a process that holds other ones refuses to start.

A host started without the shared keys used to write fresh ones into its own instance/config.py and run: the
numbers it encrypted could then be read nowhere else, and the persons it stored were indexed with another key, so
the same person became two. Now each key that encrypts or indexes what is stored (PII_INDEX_KEY, every key of
PII_KEYS) has a verifier in the database (key_checks), and every process compares its own keys with them when it
starts (create_app), before it serves or runs anything.

A key's verifier is recorded by the first process that starts with it, but only once that key has read what is
already stored with it: the oldest numbers encrypted under its id decrypt, and the oldest blind indexes are the
index key's. So the first start after this check was added (an existing database, key_checks empty) cannot record a
wrong host's keys either. SECRET_KEY is not checked: changing it only signs everyone out, and a deployment may do
that on purpose.
"""
import base64
import contextlib
import hashlib
import hmac

from sqlalchemy import Text, inspect, select, type_coerce
from sqlalchemy.exc import IntegrityError

from ..core.database import only_reading
from ..extensions import db
from .models import KeyCheck
from .pii import CIPHER_PREFIX, PIIKeyError, Protected, blind_indexer, decrypt

#: What the verifier is an HMAC of: no blind index or ciphertext is made of this text (they start with a kind).
_CHECKED_TEXT = b"\x00dissuasion key check\x00v1"
#: A key not yet recorded must read the oldest values stored with it: this many of a column's, at most, among its
#: first SAMPLE_WINDOW rows (a bounded look, whatever the table's size).
SAMPLE, SAMPLE_WINDOW = 20, 10_000
INDEX_KEY = "PII_INDEX_KEY"


def verifiers(config) -> dict[str, str]:
    """{name: verifier} of the keys this process holds."""
    found = {INDEX_KEY: _verifier(config[INDEX_KEY].encode())}
    for key_id, key in config["PII_KEYS"].items():
        found[f"PII_KEYS:{key_id}"] = _verifier(base64.b64decode(key))
    return found


def _verifier(key: bytes) -> str:
    return hmac.new(key, _CHECKED_TEXT, hashlib.sha256).hexdigest()[:32]


def check_against_database(config) -> None:
    """Raise PIIKeyError, saying which key differs and what to do, when a key of this process is not the one the
    database was written with; record the verifiers of keys the database does not know yet. Does nothing before
    the database has its tables (`flask db upgrade` on a new database). Reads without waiting for the write lock
    (an import may hold it for seconds); only recording a key takes it."""
    with _reading():
        if not inspect(db.session.connection()).has_table(KeyCheck.__tablename__):
            return
        stored = _stored()
    mine = verifiers(config)
    if missing := [name for name in mine if name not in stored]:  # (the first start, or a key added since)
        with _reading():
            if wrong := [name for name in missing if not _reads_what_is_stored(name, config)]:
                raise _refused(wrong)
        try:
            db.session.add_all(KeyCheck(name=name, verifier=mine[name]) for name in missing)
            db.session.commit()
        except IntegrityError:  # another process recorded them at the same moment: compare with theirs
            db.session.rollback()
        with _reading():
            stored = _stored()
    if wrong := [name for name, verifier in mine.items() if stored.get(name, verifier) != verifier]:
        raise _refused(wrong)


def _refused(names: list[str]) -> PIIKeyError:
    return PIIKeyError(
        f"本机的密钥与数据库不符：{'、'.join(names)} 不是写入这个数据库时用的那把。用这样的密钥运行，新加密的号码在其他"
        "主机上无法读取，同一个人会被存成两个人，所以本进程拒绝启动。请把正在运行的主机的密钥（环境变量 PII_KEYS、"
        "PII_KEY_ID、PII_INDEX_KEY、SECRET_KEY，或其 instance/config.py）原样复制到本机后再启动。")


@contextlib.contextmanager
def _reading():
    """A transaction of its own that only reads (SQLite: no write lock), ended on the way out."""
    db.session.rollback()
    with only_reading():
        try:
            yield
        finally:
            db.session.rollback()


def _stored() -> dict[str, str]:
    return dict(db.session.execute(select(KeyCheck.name, KeyCheck.verifier)).all())


def _reads_what_is_stored(name: str, config) -> bool:
    """Whether the key `name` of `config` reads the oldest values stored with it (True when none are)."""
    if name == INDEX_KEY:
        return _indexes_match(config)
    return _decrypts(name.removeprefix("PII_KEYS:"), config["PII_KEYS"])


def _protected_columns():
    """(table, column) of every encrypted column of the schema."""
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Protected):
                yield table, column


def _oldest(table, *columns, where):
    """Up to SAMPLE rows of `columns` among the table's first SAMPLE_WINDOW rows, as stored (nothing decrypted)."""
    key = next(iter(table.primary_key.columns))
    window = select(key, *(type_coerce(c, Text).label(c.name) for c in columns)).order_by(key).limit(
        SAMPLE_WINDOW).subquery()
    return db.session.execute(select(*(window.c[c.name] for c in columns)).where(where(window)).limit(SAMPLE)).all()


def _decrypts(key_id: str, keys: dict) -> bool:
    """The key of this id decrypts some of the oldest values stored under it, in every column that has any."""
    prefix = f"{CIPHER_PREFIX}{key_id}:"
    for table, column in _protected_columns():
        rows = _oldest(table, column, where=lambda w, c=column: w.c[c.name].startswith(prefix, autoescape=True))
        if rows and all(_plain(value, keys) is None for (value,) in rows):
            return False
    return True


def _indexes_match(config) -> bool:
    """The index key of `config` gives the blind index stored beside some of the oldest numbers its PII_KEYS read,
    in every column that keeps one (Protected's `blind`)."""
    for table, column in _protected_columns():
        if column.type.blind is None:
            continue
        kind, index_name = column.type.blind
        index = table.c[index_name]
        rows = _oldest(table, column, index, where=lambda w, c=column, i=index: w.c[c.name].startswith(
            CIPHER_PREFIX) & w.c[i.name].isnot(None))
        read = [(plain, stored) for value, stored in rows if (plain := _plain(value, config["PII_KEYS"])) is not None]
        index_of = blind_indexer(kind, config[INDEX_KEY])
        if read and not any(index_of(plain) == stored for plain, stored in read):
            return False
    return True


def _plain(value: str, keys: dict) -> str | None:
    try:
        return decrypt(value, keys)
    except (PIIKeyError, ValueError):
        return None
