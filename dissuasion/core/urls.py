"""Where a page may send the user back to after a form (`next`): a path on this site, never another host."""
from urllib.parse import urlsplit


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
