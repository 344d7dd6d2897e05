"""Chinese by default, English on request.

Source strings are Chinese, so the default interface needs no catalog (and so is immune to
Flask-Babel turning zh_CN into zh_Hans_CN); translations/en holds the English catalog.
"""
import functools

import flask_babel
from babel import Locale
from flask import Flask, g, has_app_context, request, session
from flask_babel import get_locale
from jinja2 import pass_context
from markupsafe import Markup, escape
from werkzeug.utils import cached_property

from .catalog import kept_translations
from .enums import LabelledEnum

LANGUAGES = ("zh_CN", "en")


def N_(text: str) -> str:
    """Marks a Chinese source string for the English catalog where it is defined (a table of messages); it is
    translated where it is shown, with `gettext(text)`."""
    return text


class RequestDomain(flask_babel.Domain):
    """Flask-Babel finds the catalog again for every string it translates (context, locale, the locale's name,
    the cache): some 400 times for one worklist page, a sixth of its time. Within one request the catalog only
    changes with the locale (force_locale, refresh), so it is kept on g beside the locale it belongs to."""

    def get_translations(self):
        locale = get_locale() if has_app_context() else None
        if locale is None:
            return super().get_translations()
        kept = g.get("_i18n_translations")
        if kept is None or kept[0] is not locale or kept[2] is not self:
            kept = g._i18n_translations = (locale, super().get_translations(), self)
        return kept[1]


class Babel(flask_babel.Babel):
    """Flask-Babel with the per-request catalog above as its default domain."""

    @cached_property
    def domain_instance(self):
        return RequestDomain(domain=self.domain)


#: The languages as Babel locales, parsed once: Locale.parse of a name searches Babel's list of some 900 locale
#: names (lower-casing each), about a millisecond, and Flask-Babel parses the selector's answer on every request
#: and force_locale's argument on every `say` (a contact stores several). Given a Locale, both take it as it is.
_LOCALES = {lang: Locale.parse(lang) for lang in LANGUAGES}


def select_locale() -> Locale:
    """The language the user chose (session), else zh_CN; an English browser alone does not switch it."""
    lang = session.get("lang") if request else None
    return _LOCALES[lang if lang in LANGUAGES else "zh_CN"]


def select_timezone() -> str:
    return "Asia/Shanghai"


def _english() -> bool:
    locale = get_locale()
    return bool(locale and locale.language == "en")


def colon() -> str:
    """The colon after a label: full-width in Chinese, ": " in English."""
    return ": " if _english() else "："


def list_separator() -> str:
    """Between the items of a list in a sentence: ；in Chinese, "; " in English."""
    return "; " if _english() else "；"


def paren(value) -> Markup:
    """A value in brackets after a word: （3） in Chinese, " (3)" in English."""
    return Markup(" ({})" if _english() else "（{}）").format(escape(value))


def translations():
    """The current catalog, fast: once Flask-Babel has chosen this request's locale and RequestDomain has kept its
    catalog on g, a template's string finds it in two dictionary reads (catalog.kept_translations), instead of the
    five context lookups (each through a werkzeug proxy) of Flask-Babel's own path, some 500 times for a worklist
    page."""
    return kept_translations() or flask_babel.get_translations()


def gettext(string: str, **variables) -> str:
    """flask_babel.gettext (the string translated, then formatted with the values), through the fast lookup."""
    translated = translations().ugettext(string)
    return translated % variables if variables else translated


@pass_context
def _template_gettext(context, string: str, **variables):
    """`_()` and `{% trans %}` in templates: what Jinja's newstyle gettext does (escaped, always formatted: a
    literal % is written %%), with the fast lookup."""
    translated = translations().ugettext(string)
    return (Markup(translated) if context.eval_ctx.autoescape else translated) % variables


@pass_context
def _template_ngettext(context, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    translated = translations().ungettext(singular, plural, num)
    return (Markup(translated) if context.eval_ctx.autoescape else translated) % variables


def init_app(app: Flask, babel: Babel) -> None:
    """Bind the extension's Babel (extensions.py, which builds it from this module's class) to the app."""
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    app.jinja_env.globals["colon"] = colon
    app.jinja_env.filters["paren"] = paren

    @app.context_processor
    def inject_locale():
        locale = get_locale()
        return {"current_lang": "en" if locale and locale.language == "en" else "zh_CN",
                "html_lang": "en" if locale and locale.language == "en" else "zh-CN"}


class Said(str):
    """A stored sentence (timeline entry, notification): the Chinese text, which is what gets stored and exported,
    and its `spec` (the message id and its values), which `said_text` renders in the reader's language. Written
    by one user, a timeline entry is read by others, in their own language."""

    spec: dict

    def __new__(cls, text: str, spec: dict):
        said = super().__new__(cls, text)
        said.spec = spec
        return said


def say(msgid: str, **values) -> Said:
    """A sentence to store: `msgid` is the Chinese source string (extracted like `_`), `values` fill its
    %(name)s places. Enum values (their labels) and nested `say` sentences are kept as what they are, so each
    reader sees them translated; anything else is kept as text (names, reasons, formatted times)."""
    spec = {"m": msgid, "a": {k: _encode(v) for k, v in values.items()}}
    with flask_babel.force_locale(_LOCALES["zh_CN"]):
        return Said(_render(spec), spec)


def spec_of(message: str) -> dict | None:
    """What shows a stored message in its reader's language: a `say` sentence's spec, None for plain text."""
    return message.spec if isinstance(message, Said) else None


def said_text(spec: dict | None, stored: str = "") -> str:
    """A stored sentence in the current language; the stored text when there is no spec or it cannot be read
    (an entry from before specs were kept, or one whose message id no longer exists)."""
    if not spec:
        return stored
    try:
        return _render(spec)
    except (KeyError, TypeError, ValueError):
        return stored


def _encode(value):
    if isinstance(value, Said):
        return {"say": value.spec}
    if isinstance(value, LabelledEnum):
        return {"enum": type(value).__name__, "value": value.value}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return str(value)


def _decode(value):
    if isinstance(value, dict):
        if "say" in value:
            return _render(value["say"])
        return _enum_classes()[value["enum"]](value["value"]).label
    return value


def _render(spec: dict) -> str:
    msgid, values = spec["m"], {k: _decode(v) for k, v in spec.get("a", {}).items()}
    return flask_babel.gettext(msgid) % values  # always formatted (as `_` with values): a literal % is written %%


@functools.cache  # the enums are all defined when the first stored sentence is read
def _enum_classes() -> dict[str, type]:
    found, todo = {}, [LabelledEnum]
    while todo:
        for cls in todo.pop().__subclasses__():
            found[cls.__name__] = cls
            todo.append(cls)
    return found
