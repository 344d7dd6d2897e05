"""Keeping the data safe over time: re-encryption under a new key (rotation), backup and restore.

Operations flush and log; the CLI commits.
"""
import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from flask import Config
from sqlalchemy import Text, bindparam, select, type_coerce, update

from ..config import pii_key_lines
from ..core.auditlog import record
from ..extensions import db
from ..privacy.freetext import FreeText, has_numbers
from ..privacy.pii import PIIKeyError, Protected, decrypt, encrypt, key_id_of

BATCH = 1000


def protected_columns() -> dict:
    """{table: [columns of type Protected or FreeText]} over the whole schema, so a new encrypted column is never
    missed."""
    found = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, Protected | FreeText)]
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
            stale = [c.name for c in columns if values[c.name] and key_id_of(values[c.name]) != current_key_id
                     and (key_id_of(values[c.name]) or not isinstance(c.type, FreeText))]  # plain notes stay so
            if stale:
                rewritten += len(stale)
                changes.append({"_id": row.id, **{f"_v_{c.name}": _rewrap(values[c.name], isinstance(c.type, FreeText))
                                                    for c in columns}})
        statement = update(table).where(table.c.id == bindparam("_id")).values(
            {c.name: bindparam(f"_v_{c.name}", type_=Text) for c in columns})
        for start in range(0, len(changes), BATCH):
            db.session.execute(statement, changes[start:start + BATCH])
    record("pii_rotate", "database", "", key_id=current_key_id, values=rewritten)
    db.session.flush()
    return rewritten


def _rewrap(stored: str | None, free_text: bool = False) -> str | None:
    if free_text and stored and not key_id_of(stored) and not has_numbers(stored):
        return stored  # free text without a number (a note beside one that is rewritten)
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


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says what to do."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg_command(tool: str, url) -> tuple[list[str], dict]:
    """pg_dump / pg_restore with the connection of DATABASE_URL; the password goes through the environment."""
    if shutil.which(tool) is None:
        raise BackupError(f"未找到 {tool}：请安装与数据库版本一致的 PostgreSQL 客户端"
                          f"（Debian: apt install postgresql-client）。")
    args = [tool, "--no-password", "-d", url.database]
    for flag, value in (("-h", url.host), ("-p", url.port), ("-U", url.username)):
        if value:
            args += [flag, str(value)]
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    return args, env


def _run(args: list[str], env: dict) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} 失败：{done.stderr.strip()[-2000:]}")


def backup_database(out: Path) -> str:
    """A consistent copy of the live database in `out` (SQLite online backup, or pg_dump -Fc); returns its sha256."""
    url = db.engine.url
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    if url.get_backend_name() == "sqlite":
        source, target = sqlite3.connect(url.database), sqlite3.connect(partial)
        try:
            source.backup(target)  # page by page, consistent even while the web server writes
        finally:
            target.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        args, env = _pg_command("pg_dump", url)
        _run(args + ["-Fc", "-f", str(partial)], env)
    else:
        raise BackupError(f"不支持的数据库类型：{url.get_backend_name()}")
    partial.chmod(0o600)  # the file holds everything, encrypted numbers and their blind indexes included
    partial.replace(out)
    checksum = _sha256(out)
    record("backup", "database", "", file=str(out), sha256=checksum, bytes=out.stat().st_size)
    db.session.flush()
    return checksum


def _check_sqlite_backup(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} 不是 SQLite 数据库备份：{exc}") from exc
    finally:
        conn.close()
    if not ok or not {"audit_events", "users"} <= tables:
        raise BackupError(f"{path} 不是本系统完整的备份（损坏，或缺少数据表），未恢复任何内容。")


def restore_database(path: Path) -> str:
    """Replace the live database with a backup made by backup_database(); returns the backup's sha256.

    The restore is written into the restored database's own audit trail.
    """
    url = db.engine.url
    path = path.resolve()
    db.session.remove()
    db.engine.dispose()  # no pooled connection may keep reading the old pages
    if url.get_backend_name() == "sqlite":
        _check_sqlite_backup(path)
        source, target = sqlite3.connect(f"file:{path}?mode=ro", uri=True), sqlite3.connect(url.database)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        args, env = _pg_command("pg_restore", url)
        _run(args + ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(path)], env)
    else:
        raise BackupError(f"不支持的数据库类型：{url.get_backend_name()}")
    checksum = _sha256(path)
    record("restore", "database", "", file=str(path), sha256=checksum)
    db.session.flush()
    return checksum
