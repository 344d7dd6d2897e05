"""Text as centers and users type it: full-width folded, invisible marks removed, and the key names are compared by.
Every domain that reads a name or a cell uses these (the importer, the directory, routing, the person numbers)."""
import unicodedata
from functools import lru_cache

#: Characters that show as nothing: zero-width spaces and joiners, a stray BOM, a soft hyphen, and the direction
#: marks Windows and chat apps put around a copied number or word (U+202D 13800138000 U+202C). Removed from every
#: cell: 高 with a mark after it is still 高.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f"
                                   "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_KEY_FOLD = INVISIBLE | str.maketrans("【】[]〔〕", "()()()")


def clean_text(value) -> str:
    """Fold full-width characters (digits, letters, spaces) to ASCII and strip; None becomes ''."""
    if value is None:
        return ""
    text = str(value)
    if text.isascii():
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


@lru_cache(maxsize=4096)  # a push names the same few places and headers over and over
def name_key(text) -> str:
    """A header or a place name as compared: full-width folded, spaces, line breaks and invisible marks removed,
    【】 and [] as (), lower case."""
    return "".join(clean_text(text).translate(_KEY_FOLD).split()).lower()
