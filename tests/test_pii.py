"""ID and phone numbers: the GB 11643 rule, normalisation of what Excel and people write, masking."""
import datetime as dt
import random

import pytest

from dissuasion.core.enums import DataFlag
from dissuasion.privacy.pii import (
    id_check_digit,
    id_problem,
    mask_id,
    mask_phone,
    normalize_id,
    normalize_phone,
    phone_valid,
)

VALID = "11010519491231002X"  # the standard's own example


def test_the_standards_example_is_valid():
    assert id_check_digit(VALID[:17]) == "X"
    assert id_problem(VALID) is None


@pytest.mark.parametrize("raw,expected", [
    (" 11010519491231002x ", VALID), ("１１０１０５１９４９１２３１００２Ｘ", VALID), ("110105 19491231 002X", VALID),
])
def test_ids_are_normalised(raw, expected):
    assert normalize_id(raw) == expected


@pytest.mark.parametrize("number,flag", [
    ("110105194912310021", DataFlag.ID_CHECKSUM),
    ("11010519491231002", DataFlag.ID_LENGTH),
    ("1101051949123100", DataFlag.ID_LENGTH),
    ("11010519491331002X", DataFlag.ID_BIRTH_DATE),
    ("110105209912310020", DataFlag.ID_BIRTH_DATE),
    ("1101051949123100AX", DataFlag.ID_FORMAT),
    ("3.39901198501011E+17", DataFlag.ID_LOST_DIGITS),
    ("339901198501011001", DataFlag.ID_CHECKSUM),
])
def test_invalid_ids_say_why(number, flag):
    assert id_problem(number, today=dt.date(2026, 11, 21)) == flag


def test_unknown_area_codes_are_not_judged():
    body = "99990119850101123"
    assert id_problem(body + id_check_digit(body)) is None


@pytest.mark.parametrize("raw,expected,valid", [
    ("138 0013 8000", "13800138000", True), ("138-0013-8000", "13800138000", True),
    ("+86 13800138000", "13800138000", True), ("008613800138000", "13800138000", True),
    ("13800138000.0", "13800138000", True), ("０５７１－８８８８８８８８", "057188888888", True),
    ("1380013800", "1380013800", False), ("12345", "12345", False),
])
def test_phones_are_normalised_and_checked(raw, expected, valid):
    assert normalize_phone(raw) == expected
    assert phone_valid(expected) is valid


def test_masks_hide_the_middle():
    assert mask_id("33990119850101123X") == "3399**********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id(None) == "" and mask_phone("") == ""


@pytest.mark.parametrize("key", ["short key", "k" * 64, "a key longer than one SHA-256 block " * 3])
def test_blind_index_is_hmac_sha256_of_kind_and_value(app, key):
    """Stored indexes must keep matching: the fast path is exactly HMAC-SHA256 with the configured key."""
    import hashlib
    import hmac

    from dissuasion.privacy.pii import blind_index
    app.config["PII_INDEX_KEY"] = key
    for kind, value in (("id", "11010519491231002X"), ("phone", "13812345678"), ("name-phone", "张三|1380")):
        expected = hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:40]
        assert blind_index(kind, value) == expected



class _Text(str):
    """A cell's text that takes the long way through normalize_id and normalize_phone (their shortcut is for str)."""


@pytest.mark.parametrize("normalize", [normalize_id, normalize_phone])
def test_numbers_already_written_as_they_should_be_normalise_as_the_long_way_does(normalize):
    """normalize_id and normalize_phone return an 18-character ID or an 11-digit mobile at once when it needs no
    folding: the same text the long way gives, for such numbers and for near misses around them."""
    rng = random.Random(23)
    samples = ["339901198001010013", "33990119800101001X", "33990119800101001x", "13800138000", "00861380013800",
               "0086138001380", "+8613800138000", "8613800138000", "013800138000", "23800138000", "1380013800０",
               "１3800138000", " 13800138000", "'13800138000", "13800138000.0", "3399011980010100.0",
               "339901 198001010013", "33990119800101001×"]
    for _ in range(3000):
        base = "".join(rng.choice("0123456789") for _ in range(rng.choice((11, 17, 18))))
        base = "1" + base[1:] if rng.random() < 0.5 else base
        if rng.random() < 0.6:
            at = rng.randrange(len(base) + 1)
            base = base[:at] + rng.choice("0123456789Xx -×'.+０１（）") + base[at + 1:]
        samples.append(base)
    assert [normalize(s) for s in samples] == [normalize(_Text(s)) for s in samples]
