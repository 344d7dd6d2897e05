"""Uploaded files waiting between the preview and the commit: in the database, never in plain text.

A file is kept in `pending_uploads` (so the commit may reach any web host, and run on any worker), sealed with
the PII key (AES-GCM, privacy.pii.encrypt_bytes: a list is names, ID and phone numbers), under a random token the
preview's form carries, with its name, sha256 and who uploaded it; only the same user may commit it. The
preview's judgement of every row is kept beside it, sealed the same way, so the commit writes without reading and
judging the file again; a judgement older than IMPORT_ANALYSIS_MAX_AGE or stored by another version of the code
is not used (the file is judged again). Uploads older than two hours are removed whenever a new one arrives and
by the scheduler's job (imports.tasks.remove_abandoned_uploads, every few minutes), unless a job still works on
them; a commit removes its upload in its own transaction.
"""
import dataclasses
import datetime as dt
import hashlib
import io
import logging
import os
import pickle
import re
import secrets
import zlib
from dataclasses import dataclass
from operator import attrgetter

from flask import current_app
from sqlalchemy import delete, select

from ..core.bulk import gc_paused
from ..core.timeutil import now
from ..directory.models import Community, Precinct
from ..extensions import db
from ..jobs.operations import open_refs
from ..privacy.pii import PIIKeyError, decrypt_bytes, encrypt_bytes
from .headers import HeaderMatch
from .models import PendingUpload
from .pipeline import Analysis, sha256
from .rows import Problem, RowResult

log = logging.getLogger(__name__)
#: Uploads not committed within this many seconds are removed (the preview page says how long it waits).
MAX_AGE_SECONDS = 2 * 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
#: The job kind that commits an upload (scheduler.JOB_KINDS); its jobs' ref is the upload's token.
COMMIT_JOB = "imports.commit"


@dataclass
class Upload:
    token: str
    filename: str
    sha256: str
    user_id: int
    data: bytes
    created_at: dt.datetime | None = None


def _analysis_version() -> str:
    """The shape of a stored analysis: the fields of the classes it is made of. Another shape is judged again."""
    names = [f"{cls.__name__}:{','.join(f.name for f in dataclasses.fields(cls))}"
             for cls in (Analysis, RowResult, Problem, HeaderMatch)]
    return hashlib.sha256(";".join(names).encode()).hexdigest()[:40]


def save_upload(filename: str, data: bytes, user, analysis: Analysis | None = None) -> Upload:
    """Keep an uploaded file (and its preview's judgement) for its commit; returns it with its token. Flushed, not
    committed."""
    remove_old_uploads()
    upload = Upload(token=secrets.token_urlsafe(24), filename=os.path.basename(filename or "")[:255] or "upload",
                    sha256=sha256(data), user_id=user.id, data=data)
    db.session.add(PendingUpload(token=upload.token, file_name=upload.filename, sha256=upload.sha256,
                                 user_id=user.id, data=encrypt_bytes(data),
                                 analysis=_seal(analysis) if analysis is not None else None,
                                 analysis_version=_analysis_version() if analysis is not None else ""))
    db.session.flush()
    return upload


def _row(token: str) -> PendingUpload | None:
    if not _TOKEN.match(token or ""):
        return None
    return db.session.scalar(select(PendingUpload).filter_by(token=token))


def load_upload(token: str, user) -> Upload | None:
    """The upload behind a token, if it is still there and this user made it (user None: the job that commits it,
    which checked the user when it was queued)."""
    row = _row(token)
    if row is None or (user is not None and row.user_id != user.id):
        return None
    try:
        data = decrypt_bytes(row.data)
    except (ValueError, PIIKeyError):
        return None
    if sha256(data) != row.sha256:
        return None
    return Upload(token=token, filename=row.file_name, sha256=row.sha256, user_id=row.user_id, data=data,
                  created_at=row.created_at)


def upload_exists(token: str, user) -> bool:
    """Whether this user's upload is still waiting (without decrypting it)."""
    return db.session.scalar(select(PendingUpload.id).filter_by(token=token or "", user_id=user.id)) is not None


@gc_paused
def kept_analysis(token: str) -> Analysis | None:
    """The preview's judgement of this upload, if it can still be used (recent, this version of the code, every
    precinct and community it routed to still there); None: judge the file again."""
    row = _row(token)
    if row is None or row.analysis is None or row.analysis_version != _analysis_version():
        return None
    if row.created_at < now() - dt.timedelta(seconds=current_app.config["IMPORT_ANALYSIS_MAX_AGE"]):
        return None
    try:
        analysis = _unseal(row.analysis)
    except Exception:  # noqa: BLE001  (anything unreadable is judged again)
        log.warning("upload %s: the preview's judgement could not be read; judging the file again", row.id,
                    exc_info=True)
        return None
    return analysis if _places_back(analysis) else None


#: A row's fields as stored (its problems as tuples, its precinct and community by id): plain lists pickle and load
#: ten times faster than the dataclasses themselves (50,000 rows: about 0.3 s instead of 3 s each way).
_ROW_FIELDS = tuple(f.name for f in dataclasses.fields(RowResult))
_PROBLEM_FIELDS = tuple(f.name for f in dataclasses.fields(Problem))


_row_values, _problem_values = attrgetter(*_ROW_FIELDS), attrgetter(*_PROBLEM_FIELDS)
_PRECINCT, _COMMUNITY, _PUSH, _PROBLEMS = (_ROW_FIELDS.index(f) for f in ("precinct", "community", "push", "problems"))


def _stored(r: RowResult) -> list:
    values = list(_row_values(r))
    values[_PRECINCT] = r.precinct.id if r.precinct is not None else None
    values[_COMMUNITY] = r.community.id if r.community is not None else None
    values[_PUSH] = None
    values[_PROBLEMS] = [_problem_values(p) for p in r.problems]
    return values


@gc_paused
def _seal(analysis: Analysis) -> bytes:
    """The analysis pickled, compressed and encrypted: each row as the list of its fields."""
    rows = [_stored(r) for r in analysis.results]
    shell = dataclasses.replace(analysis, results=[])
    return encrypt_bytes(zlib.compress(pickle.dumps((shell, rows), protocol=pickle.HIGHEST_PROTOCOL), 1))


#: What a sealed judgement may hold besides this package's own classes: plain values.
_PLAIN = {"builtins": {"set", "frozenset", "tuple", "list", "dict", "str", "bytes", "int", "float", "bool",
                       "complex"},
          "datetime": {"datetime", "date", "time", "timedelta", "timezone"}, "decimal": {"Decimal"}}


class _Judgement(pickle.Unpickler):
    """Reads a sealed judgement and nothing else: only this package's classes and plain values may be named in it,
    never a function, so even a sealed blob someone managed to forge could not run code (the seal is AES-GCM with
    the PII key; this is the second lock)."""

    def find_class(self, module: str, name: str):
        if name in _PLAIN.get(module, ()):
            return super().find_class(module, name)
        if module.startswith("dissuasion.") and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a judgement")


def _unseal(sealed: bytes) -> Analysis:
    shell, rows = _Judgement(io.BytesIO(zlib.decompress(decrypt_bytes(sealed)))).load()
    results = []
    for values in rows:
        r = RowResult.__new__(RowResult)
        values[_PROBLEMS] = [Problem(*p) for p in values[_PROBLEMS]]
        for name, value in zip(_ROW_FIELDS, values, strict=True):
            object.__setattr__(r, name, value)
        results.append(r)
    shell.results = results
    return shell


def _places_back(analysis: Analysis) -> bool:
    """Each row's precinct and community ids back to the objects; False when one is gone from the directory."""
    precinct_ids = {r.precinct for r in analysis.results if r.precinct is not None}
    community_ids = {r.community for r in analysis.results if r.community is not None}
    precincts = {p.id: p for p in db.session.scalars(select(Precinct).where(Precinct.id.in_(precinct_ids)))}
    communities = {c.id: c for c in db.session.scalars(select(Community).where(Community.id.in_(community_ids)))}
    if len(precincts) != len(precinct_ids) or len(communities) != len(community_ids):
        return False
    for r in analysis.results:
        r.precinct = precincts[r.precinct] if r.precinct is not None else None
        r.community = communities[r.community] if r.community is not None else None
    return True


def discard_upload(token: str) -> None:
    """Remove an upload (committed or refused); flushed with the caller's transaction."""
    if _TOKEN.match(token or ""):
        db.session.execute(delete(PendingUpload).where(PendingUpload.token == token))


def remove_old_uploads(max_age: int = MAX_AGE_SECONDS) -> int:
    """Remove uploads older than two hours (previews nobody committed), except those a job still works on."""
    limit = now() - dt.timedelta(seconds=max_age)
    result = db.session.execute(delete(PendingUpload).where(PendingUpload.created_at < limit,
                                                            PendingUpload.token.not_in(open_refs(COMMIT_JOB)))
                                .execution_options(synchronize_session=False))
    return result.rowcount
