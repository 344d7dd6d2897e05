"""ID and phone numbers: normalise, validate, store, match, mask. The one place that touches them.

Stored values go through the `Protected` column type, which encrypts them (AES-GCM, keys with ids in
PII_KEYS so they can rotate), and are searched and matched only through `blind_index()`.
"""
import base64
import binascii
import datetime as dt
import hashlib
import os
import re
from operator import mul

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from ..core.enums import DataFlag
from ..core.i18n import N_
from ..core.text import clean_text

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_ID_ZEROS = ord("0") * sum(ID_WEIGHTS)
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_PHONE_JUNK = re.compile(r"[\s\-()（）.]")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+\d+$")


def as_typed(text: str) -> str:
    """A number's text without what Excel wrapped it in: the ' that marks "keep as text", the .0 of a number
    cell read as a float."""
    text = text.lstrip("'")
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


def normalize_id(value) -> str:
    """The ID number as it should be written: no spaces or dashes (339901-19800101-0013), upper-case X (a × typed
    for it too), full-width folded."""
    if value.__class__ is str and len(value) == 18 and value.isascii() and value[:17].isdigit() and (
            value[17].isdigit() or value[17] == "X"):
        return value  # written as it should be already (nearly every row of a push): nothing to fold or remove
    return as_typed(clean_text(value).replace(" ", "").replace("-", "").replace("×", "X").upper())


def id_check_digit(body17: str) -> str:
    """GB 11643 check character for the first 17 digits."""
    if body17.isascii():  # digits as bytes: their codes less 48 times the weights, summed without a loop
        return ID_CHECK[(sum(map(mul, body17.encode(), ID_WEIGHTS)) - _ID_ZEROS) % 11]
    return ID_CHECK[sum(map(mul, map(int, body17), ID_WEIGHTS)) % 11]


def id_problem(number: str, today: dt.date | None = None) -> DataFlag | None:
    """Why a normalised ID number is invalid, or None. Area codes are deliberately not judged (SPEC)."""
    # Excel keeps 15 significant digits: an ID typed as a number comes back as 3.39901E+17. (One that
    # ends in 000 may have lost digits too, but a text cell cannot tell that from a mistyped check digit.)
    if _SCIENTIFIC.match(number):
        return DataFlag.ID_LOST_DIGITS
    if len(number) != 18:
        return DataFlag.ID_LENGTH
    if not _ID_SHAPE.match(number):
        return DataFlag.ID_FORMAT
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return DataFlag.ID_BIRTH_DATE
    if birth > (today or dt.date.today()) or birth.year < 1880:
        return DataFlag.ID_BIRTH_DATE
    if id_check_digit(number[:17]) != number[17]:
        return DataFlag.ID_CHECKSUM
    return None


#: What is wrong with a number, as the importer and hand entry both say it (each adds what to do next). {value} is
#: the number masked: messages are stored and shown.
NUMBER_PROBLEMS = {
    DataFlag.ID_LENGTH: N_("身份证号“{value}”位数不对（应为 18 位）"),
    DataFlag.ID_CHECKSUM: N_("身份证号“{value}”校验位不对，可能抄错"),
    DataFlag.ID_FORMAT: N_("身份证号“{value}”含有非法字符"),
    DataFlag.ID_BIRTH_DATE: N_("身份证号“{value}”中的出生日期无效"),
    DataFlag.PHONE: N_("手机号“{value}”格式不对"),
}


def normalize_phone(value) -> str:
    """Digits of a phone number without spaces, dashes, brackets or a +86 / 0086 prefix."""
    if value.__class__ is str and len(value) == 11 and value.isascii() and value.isdigit() and value[0] == "1":
        return value  # a mobile number written as it should be (nearly every row of a push)
    text = _PHONE_JUNK.sub("", as_typed(clean_text(value)))
    international = False
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text, international = text[len(prefix):], True
    if text.startswith("86") and len(text) == 13:
        text, international = text[2:], True
    elif len(text) == 12 and text.startswith("01") and _MOBILE.match(text[1:]):
        text = text[1:]  # a mobile dialled with the trunk 0 (013800138000): the mobile, not a landline
    if international and text[:1] not in ("", "0") and not _MOBILE.match(text):
        text = "0" + text  # a landline written from abroad (+86 571 8888 1234): its area code takes the 0 back
    return text


def phone_valid(number: str) -> bool:
    """A mainland mobile number, or a landline with its area code."""
    return bool(_MOBILE.match(number) or _LANDLINE.match(number))


def mask_id(number: str | None) -> str:
    """3399**********123X: enough to tell two people apart on a list, not enough to misuse."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(number: str | None) -> str:
    """138****5678."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


#: Per index key: SHA-256 already fed the key's inner and outer HMAC pads (RFC 2104).
_hmac_pads: dict[bytes, tuple] = {}


def blind_indexer(kind: str, index_key: str | None = None):
    """blind_index for one kind of value, keyed once (with `index_key`, by default the app's PII_INDEX_KEY): an
    import computes 300,000 of these. It is HMAC-SHA256, computed from the two keyed hash states copied for each
    value (hmac.HMAC.copy does the same, in Python)."""
    key = (current_app.config["PII_INDEX_KEY"] if index_key is None else index_key).encode()
    pads = _hmac_pads.get(key)
    if pads is None:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        pads = _hmac_pads[key] = (hashlib.sha256(bytes(b ^ 0x36 for b in block)),
                                  hashlib.sha256(bytes(b ^ 0x5C for b in block)))
    inner_pad, outer_pad = pads
    prefix = f"{kind}:"

    def index(value: str) -> str:
        inner = inner_pad.copy()
        inner.update((prefix + value).encode())
        outer = outer_pad.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:40]
    return index


def blind_index(kind: str, value: str) -> str:
    """A keyed hash for exact lookup and matching, so the plain number is never needed to search."""
    return blind_indexer(kind)(value)


def person_match_key(id_number: str, id_ok: bool, name: str, phone: str, address: str, id_index: str = "") -> str:
    """Who a row is: the valid ID number; else name + phone (SPEC "Person"); else name + the ID number as written;
    else name + address.
    A caller that already holds the ID's blind index passes it (the key is that index)."""
    if id_number and id_ok:
        return "i" + (id_index or blind_index("id", id_number))
    if phone:
        return "p" + blind_index("name-phone", f"{name}|{phone}")
    if id_number:  # invalid as written: two people with different mistyped numbers stay two people
        return "n" + blind_index("name-id", f"{name}|{id_number}")
    return "a" + blind_index("name-address", f"{name}|{address}")


#: Prefix of an encrypted value: format version. A value without it is plain text from before encryption.
CIPHER_PREFIX = "v1:"
_NONCE_BYTES = 12
#: Bound into every ciphertext, so a value encrypted by another program with the same key does not decrypt here.
_AAD = b"dissuasion-pii"
#: AESGCM objects by base64 key: building one costs more than encrypting a short number (bulk imports).
_ciphers: dict[str, AESGCM] = {}


class PIIKeyError(RuntimeError):
    """The encryption keys are missing or wrong; the message says what to fix."""


def _cipher(key_b64: str) -> AESGCM:
    cipher = _ciphers.get(key_b64)
    if cipher is None:
        try:
            raw = base64.b64decode(key_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise PIIKeyError("PII_KEYS 中的密钥不是有效的 base64。") from exc
        if len(raw) != 32:
            raise PIIKeyError("PII_KEYS 中的每个密钥必须是 32 字节（base64 编码后 44 个字符）。")
        cipher = _ciphers[key_b64] = AESGCM(raw)
    return cipher


def check_keys(config) -> None:
    """Refuse to start with unusable keys: better no service than numbers written in clear or unreadable."""
    keys, current = config.get("PII_KEYS"), config.get("PII_KEY_ID")
    if not keys or current not in keys:
        raise PIIKeyError("缺少加密密钥：PII_KEYS 必须包含 PII_KEY_ID 指定的密钥（见 instance/config.py 或环境变量）。")
    for key in keys.values():
        _cipher(key)


def encrypt(value: str) -> str:
    """v1:<key id>:<base64(nonce + ciphertext)> with the current key and a fresh random nonce."""
    return encrypt_many([value])[0]


def encrypt_many(values: list) -> list:
    """encrypt() for a column of values (empty ones stay as they are), with the key looked up once and
    the random nonces drawn in one call."""
    config = current_app.config
    key_id = config["PII_KEY_ID"]
    seal = _cipher(config["PII_KEYS"][key_id]).encrypt
    prefix = f"{CIPHER_PREFIX}{key_id}:"
    nonces = os.urandom(_NONCE_BYTES * len(values))
    out = []
    for i, value in enumerate(values):
        if value:
            nonce = nonces[i * _NONCE_BYTES:(i + 1) * _NONCE_BYTES]
            value = prefix + base64.b64encode(nonce + seal(nonce, value.encode(), _AAD)).decode()
        out.append(value)
    return out


def decrypt(stored: str, keys: dict | None = None) -> str:
    """The plain value, with whichever key the stored value names (of `keys`, by default the app's PII_KEYS); plain
    legacy values pass through."""
    if not stored.startswith(CIPHER_PREFIX):
        return stored
    key_id, _, payload = stored[len(CIPHER_PREFIX):].partition(":")
    key = (current_app.config["PII_KEYS"] if keys is None else keys).get(key_id)
    if key is None:
        raise PIIKeyError(f"PII_KEYS 中没有密钥 {key_id}：恢复该密钥后才能读取用它加密的号码。")
    raw = base64.b64decode(payload)
    try:
        return _cipher(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD).decode()
    except InvalidTag as exc:
        raise PIIKeyError(f"密钥 {key_id} 无法解密该号码：密钥与数据不匹配。") from exc


def key_id_of(stored: str | None) -> str | None:
    """The key id a stored value was encrypted with; None for empty or plain values."""
    if not stored or not stored.startswith(CIPHER_PREFIX):
        return None
    return stored[len(CIPHER_PREFIX):].partition(":")[0]


class Protected(TypeDecorator):
    """Column type for ID and phone numbers: encrypted on the way in, decrypted on the way out.

    Never filter on it (every ciphertext differs); search and match through the blind-index columns.
    """

    impl = Text
    cache_ok = True

    def __init__(self, blind: tuple[str, str] | None = None):
        """`blind`: (kind, column) when a column of the same table holds blind_index(kind, the number)."""
        super().__init__()
        self.blind = blind

    def process_bind_param(self, value, dialect):
        return encrypt(value) if value else value

    def bind_many(self, values: list) -> list:
        """process_bind_param for a whole column of a bulk insert (dissuasion.core.bulk)."""
        return encrypt_many(values)

    def process_result_value(self, value, dialect):
        return decrypt(value) if value else value


def encrypt_bytes(data: bytes) -> bytes:
    """A file's bytes sealed with the current PII key (AES-GCM): <key id>\\n<nonce><ciphertext>."""
    config = current_app.config
    key_id = config["PII_KEY_ID"]
    nonce = os.urandom(_NONCE_BYTES)
    return key_id.encode() + b"\n" + nonce + _cipher(config["PII_KEYS"][key_id]).encrypt(nonce, data, _AAD)


def decrypt_bytes(sealed: bytes) -> bytes:
    """The bytes encrypt_bytes sealed; PIIKeyError when the key is gone or the data was changed."""
    key_id, _sep, raw = sealed.partition(b"\n")
    key = current_app.config["PII_KEYS"].get(key_id.decode(errors="replace"))
    if key is None:
        raise PIIKeyError(f"PII_KEYS 中没有密钥 {key_id.decode(errors='replace')}。")
    try:
        return _cipher(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD)
    except InvalidTag as exc:
        raise PIIKeyError("文件无法解密：密钥与数据不匹配或文件已被改动。") from exc
