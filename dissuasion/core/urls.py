"""Where a page may send the user back to after a form (`next`): a path on this site, never another host; and the
routes' `<int:…>`, bounded."""
from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

from .formdata import MAX_WHOLE


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None. Browsers drop tabs and line breaks from a URL (and so
    does the Location header as written), so "/\t/evil.example" would reach "//evil.example": a `next` holding any
    is refused, as is one that names a scheme or a host however it is spelled."""
    if not target or not target.startswith("/") or "\\" in target or any(c in target for c in "\t\r\n"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("//"):
        return None
    return target


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: an id or number no INTEGER column can hold (formdata.MAX_WHOLE) matches no route
    (404), instead of reaching the database (SQLite cannot compare it: a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_WHOLE)
        super().__init__(url_map, *args, **kwargs)
