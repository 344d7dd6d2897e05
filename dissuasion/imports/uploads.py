"""Uploaded files waiting between the preview and the commit: kept outside anything served, never in plain text.

A file lands in instance/uploads/ under a random name, readable by this process only, encrypted with the PII
key (AES-GCM, privacy.pii.encrypt_bytes: a list is names, ID and phone numbers), beside a small JSON note (its
name, sha256 and who uploaded it). The commit finds it again by that random token; only the same user may
commit it. Uploads older than two hours are removed whenever a new one arrives and by the scheduler's job
(imports.tasks.remove_abandoned_uploads, every few minutes), so an abandoned preview is gone within 2 hours.
"""
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..privacy.pii import PIIKeyError, decrypt_bytes, encrypt_bytes
from .pipeline import sha256

#: Uploads not committed within this many seconds are removed (the preview page says how long it waits).
MAX_AGE_SECONDS = 2 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class Upload:
    token: str
    filename: str
    sha256: str
    user_id: int
    data: bytes


def _folder() -> Path:
    folder = Path(current_app.config.get("IMPORT_UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def save_upload(filename: str, data: bytes, user) -> Upload:
    """Keep an uploaded file for its commit; returns it with its token."""
    remove_old_uploads()
    token = secrets.token_urlsafe(24)
    upload = Upload(token=token, filename=os.path.basename(filename or "")[:255] or "upload",
                    sha256=sha256(data), user_id=user.id, data=data)
    folder = _folder()
    _write_private(folder / f"{token}.bin", encrypt_bytes(data))
    note = {"filename": upload.filename, "sha256": upload.sha256, "user_id": user.id}
    _write_private(folder / f"{token}.json", json.dumps(note, ensure_ascii=False).encode())
    return upload


def load_upload(token: str, user) -> Upload | None:
    """The upload behind a token, if it is still there and this user made it."""
    if not _TOKEN.match(token or ""):
        return None
    folder = _folder()
    try:
        note = json.loads((folder / f"{token}.json").read_text())
        data = decrypt_bytes((folder / f"{token}.bin").read_bytes())
    except (OSError, ValueError, PIIKeyError):
        return None
    if note.get("user_id") != user.id or sha256(data) != note.get("sha256"):
        return None
    return Upload(token=token, filename=note["filename"], sha256=note["sha256"], user_id=user.id, data=data)


def discard_upload(token: str) -> None:
    if _TOKEN.match(token or ""):
        for suffix in (".bin", ".json"):
            (_folder() / f"{token}{suffix}").unlink(missing_ok=True)


def remove_old_uploads(max_age: int = MAX_AGE_SECONDS) -> int:
    """Remove uploads older than two hours (previews nobody committed)."""
    removed, limit = 0, time.time() - max_age
    for path in _folder().iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
