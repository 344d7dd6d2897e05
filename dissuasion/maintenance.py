"""Keeping the data safe over time: re-encryption under a new key (rotation).

Operations flush and log; the CLI commits.
"""
import os
from pathlib import Path

from flask import Config
from sqlalchemy import Text, bindparam, select, type_coerce, update

from .audit.operations import record
from .config import pii_key_lines
from .extensions import db
from .pii import PIIKeyError, Protected, decrypt, encrypt, key_id_of

BATCH = 1000


def protected_columns() -> dict:
    """{table: [columns of type Protected]} over the whole schema, so a new encrypted column is never missed."""
    found = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, Protected)]
        if columns:
            found[table] = columns
    return found


def reencrypt_pii(current_key_id: str) -> int:
    """Re-encrypt every stored ID and phone number not yet under the current key (plain legacy values too).

    Returns how many values were rewritten. Safe to run twice: the second run rewrites nothing.
    """
    rewritten = 0
    for table, columns in protected_columns().items():
        # Read the stored text itself (type_coerce skips decryption) to see which key each value names.
        raw = db.session.execute(select(table.c.id, *[type_coerce(c, Text).label(c.name) for c in columns])).all()
        changes = []
        for row in raw:
            values = row._mapping
            stale = [c.name for c in columns if values[c.name] and key_id_of(values[c.name]) != current_key_id]
            if stale:
                rewritten += len(stale)
                changes.append({"_id": row.id, **{f"_v_{c.name}": _rewrap(values[c.name]) for c in columns}})
        statement = update(table).where(table.c.id == bindparam("_id")).values(
            {c.name: bindparam(f"_v_{c.name}", type_=Text) for c in columns})
        for start in range(0, len(changes), BATCH):
            db.session.execute(statement, changes[start:start + BATCH])
    record("pii_rotate", "database", "", key_id=current_key_id, values=rewritten)
    db.session.flush()
    return rewritten


def _rewrap(stored: str | None) -> str | None:
    return encrypt(decrypt(stored)) if stored else stored


def add_pii_key(app) -> str:
    """Append a new encryption key to instance/config.py and make it current in this process."""
    if os.environ.get("PII_KEYS"):
        raise PIIKeyError("PII_KEYS 来自环境变量：请在环境变量中添加新密钥并修改 PII_KEY_ID，然后运行 pii rotate。")
    taken = set(app.config["PII_KEYS"])
    key_id = next(f"k{n}" for n in range(1, 10_000) if f"k{n}" not in taken)
    path = Path(app.instance_path) / "config.py"
    with path.open("a", encoding="utf-8") as f:
        f.write("\n" + pii_key_lines(key_id, first=False))
    fresh = Config(app.instance_path)
    fresh.from_pyfile(str(path))
    app.config["PII_KEYS"], app.config["PII_KEY_ID"] = fresh["PII_KEYS"], fresh["PII_KEY_ID"]
    return key_id
