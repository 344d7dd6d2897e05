"""Every host of one database must hold the same keys; a process that holds other ones refuses to start.

A host started without the shared keys used to write fresh ones into its own instance/config.py and run: the
numbers it encrypted could then be read nowhere else, and the persons it stored were indexed with another key, so
the same person became two. Now each key that encrypts or indexes what is stored (PII_INDEX_KEY, every key of
PII_KEYS) has a verifier in the database (key_checks), and every process compares its keys with them when it
starts (create_app), before it serves or runs anything:

* every key the database has recorded, the process must hold, the same (one it lacks: refused too, since what is
  stored under it could not be read here);
* the keys the database has not recorded yet that matter (the index key, the current PII key, and a PII key that
  something stored is encrypted with) are recorded only when the process reads what is already stored: the oldest
  encrypted numbers and notes decrypt with its keys, those stored under each new key's id too, and its index key
  gives the blind indexes stored beside the oldest numbers. So the first start after this check was added
  (key_checks empty, numbers stored) cannot make a wrong host's keys the reference. A key no one uses (an extra
  one in a host's configuration) is not recorded: it would lock out every host that lacks it.

Nothing is recorded by a process that is refused. SECRET_KEY is not checked: changing it only signs everyone out,
and a deployment may do that on purpose (hosts behind one balancer should share it all the same).
"""
import base64
import contextlib
import hashlib
import hmac
import logging

from sqlalchemy import Text, inspect, select, type_coerce
from sqlalchemy.exc import IntegrityError, OperationalError

from ..core.database import is_busy, only_reading
from ..extensions import db
from .freetext import FreeText
from .models import KeyCheck
from .pii import CIPHER_PREFIX, PIIKeyError, Protected, blind_indexer, decrypt, key_id_of

log = logging.getLogger(__name__)

#: What the verifier is an HMAC of: no blind index or ciphertext is made of this text (they start with a kind).
_CHECKED_TEXT = b"\x00dissuasion key check\x00v1"
#: A key not yet recorded must read the oldest values stored: this many of a column's, at most, among its first
#: SAMPLE_WINDOW rows (a bounded look, whatever the table's size).
SAMPLE, SAMPLE_WINDOW = 20, 10_000
INDEX_KEY, PII_PREFIX = "PII_INDEX_KEY", "PII_KEYS:"


def verifiers(config) -> dict[str, str]:
    """{name: verifier} of the keys this process holds."""
    found = {INDEX_KEY: _verifier(config[INDEX_KEY].encode())}
    for key_id, key in config["PII_KEYS"].items():
        found[PII_PREFIX + key_id] = _verifier(base64.b64decode(key))
    return found


def _verifier(key: bytes) -> str:
    return hmac.new(key, _CHECKED_TEXT, hashlib.sha256).hexdigest()[:32]


def check_against_database(config) -> None:
    """Raise PIIKeyError, saying which keys and what to do, when this process's keys are not the ones the database
    was written with; record the verifiers of its keys the database does not know yet. Does nothing before the
    database has its tables (`flask db upgrade` on a new database). Reads without waiting for the write lock (an
    import may hold it for seconds); only recording a key takes it."""
    mine = verifiers(config)
    with _reading():
        if not inspect(db.session.connection()).has_table(KeyCheck.__tablename__):
            return
        stored = _stored()
        _compare(mine, stored)
        if not (missing := [name for name in mine if name not in stored and _matters(name, config)]):
            return
        if unread := _unread(missing, config):
            raise _refused(unread=unread)
    try:
        db.session.add_all(KeyCheck(name=name, verifier=mine[name]) for name in missing)
        db.session.commit()
    except IntegrityError:  # another process recorded some at the same moment: compared with theirs below
        db.session.rollback()
    except OperationalError as error:
        db.session.rollback()
        if not is_busy(error):  # a broken database, not a busy one: the start fails with what is wrong
            raise
        # SQLite: an import held the write lock longer than the busy timeout
        log.warning("key_checks: the database is busy; %s not recorded yet (the next start records them)",
                    ", ".join(missing))
        return
    with _reading():
        _compare(mine, _stored())


def _matters(name: str, config) -> bool:
    """Whether a key not yet recorded must be: the index key, the current PII key, or a PII key something stored
    is encrypted with."""
    if not name.startswith(PII_PREFIX):
        return True
    key_id = name.removeprefix(PII_PREFIX)
    return key_id == config["PII_KEY_ID"] or _stored_under(key_id)


def _compare(mine: dict[str, str], stored: dict[str, str]) -> None:
    """Refused when a recorded key is another here, or missing here."""
    differ = [name for name, verifier in stored.items() if name in mine and mine[name] != verifier]
    lacking = [name for name in stored if name not in mine]
    if differ or lacking:
        raise _refused(differ, lacking)


def _refused(differ: list[str] = (), lacking: list[str] = (), unread: list[str] = ()) -> PIIKeyError:
    said = []
    if differ:
        said.append(f"{'、'.join(differ)} 不是写入这个数据库时用的那把")
    if lacking:
        said.append(f"本机缺少数据库已在使用的 {'、'.join(lacking)}")
    if unread:
        said.append(f"本机读不了数据库里已存的内容（{'、'.join(unread)}）")
    return PIIKeyError(
        f"本机的密钥与数据库不符：{'；'.join(said)}。用这样的密钥运行，新加密的号码在其他主机上无法读取，同一个人会被"
        "存成两个人，所以本进程拒绝启动。请把正在运行的主机的密钥（环境变量 PII_KEYS、PII_KEY_ID、PII_INDEX_KEY、"
        "SECRET_KEY，或其 instance/config.py）原样复制到本机后再启动。")


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


def _unread(missing: list[str], config) -> list[str]:
    """The keys (by name) this process would have to record but that do not read what is stored: the oldest values
    of every encrypted column must decrypt with its keys (a key id it lacks, or one that does not decrypt, is
    named), those under each new key's id too, and the index key must give the blind indexes of the oldest numbers
    (encrypted or, from before encryption, plain)."""
    keys, unread = config["PII_KEYS"], set()
    for table, column in _encrypted_columns():
        oldest = [value for (value,) in _oldest(table, column, where=lambda w, c=column: w.c[c.name].startswith(
            CIPHER_PREFIX))]
        if oldest and all(_plain(value, keys) is None for value in oldest):
            unread.update(PII_PREFIX + key_id_of(value) for value in oldest)
    for name in missing:
        if name.startswith(PII_PREFIX) and not _decrypts(name.removeprefix(PII_PREFIX), keys):
            unread.add(name)
    if INDEX_KEY in missing and not unread and not _indexes_match(config):
        unread.add(INDEX_KEY)
    return sorted(unread)


def _encrypted_columns():
    """(table, column) of every column of the schema that holds encrypted values: the numbers' own (Protected) and
    typed notes (FreeText, encrypted when they hold a number)."""
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Protected | FreeText):
                yield table, column


def _stored_under(key_id: str) -> bool:
    """Whether some of the oldest values of an encrypted column are encrypted with this key id."""
    prefix = f"{CIPHER_PREFIX}{key_id}:"
    return any(_oldest(table, column, where=lambda w, c=column: w.c[c.name].startswith(prefix, autoescape=True))
               for table, column in _encrypted_columns())


def _oldest(table, *columns, where):
    """Up to SAMPLE rows of `columns` among the table's first SAMPLE_WINDOW rows, as stored (nothing decrypted)."""
    key = next(iter(table.primary_key.columns))
    window = select(key, *(type_coerce(c, Text).label(c.name) for c in columns)).order_by(key).limit(
        SAMPLE_WINDOW).subquery()
    return db.session.execute(select(*(window.c[c.name] for c in columns)).where(where(window)).limit(SAMPLE)).all()


def _decrypts(key_id: str, keys: dict) -> bool:
    """The key of this id decrypts some of the oldest values stored under it, in every column that has any."""
    prefix = f"{CIPHER_PREFIX}{key_id}:"
    for table, column in _encrypted_columns():
        rows = _oldest(table, column, where=lambda w, c=column: w.c[c.name].startswith(prefix, autoescape=True))
        if rows and all(_plain(value, keys) is None for (value,) in rows):
            return False
    return True


def _indexes_match(config) -> bool:
    """The index key of `config` gives the blind index stored beside some of the oldest numbers its PII_KEYS read
    (or stored plain, from before encryption), in every column that keeps one (Protected's `blind`)."""
    for table, column in _encrypted_columns():
        if getattr(column.type, "blind", None) is None:
            continue
        kind, index_name = column.type.blind
        index = table.c[index_name]
        rows = _oldest(table, column, index, where=lambda w, c=column, i=index: (w.c[c.name] != "") & w.c[
            i.name].isnot(None))
        read = [(plain, stored) for value, stored in rows if (plain := _plain(value, config["PII_KEYS"])) is not None]
        index_of = blind_indexer(kind, config[INDEX_KEY])
        if rows and not any(index_of(plain) == stored for plain, stored in read):
            return False
    return True


def _plain(value: str, keys: dict) -> str | None:
    try:
        return decrypt(value, keys)
    except (PIIKeyError, ValueError):
        return None
