"""Chinese by default, English on request.

Source strings are Chinese, so the default interface needs no catalog (and so is immune to
Flask-Babel turning zh_CN into zh_Hans_CN); translations/en holds the English catalog.
"""
import flask_babel
from flask import Flask, g, has_app_context, request, session
from flask_babel import get_locale
from markupsafe import Markup, escape
from werkzeug.utils import cached_property

LANGUAGES = ("zh_CN", "en")


class RequestDomain(flask_babel.Domain):
    """Flask-Babel finds the catalog again for every string it translates (context, locale, the locale's name,
    the cache): some 400 times for one worklist page, a sixth of its time. Within one request the catalog only
    changes with the locale (force_locale, refresh), so it is kept on g beside the locale it belongs to."""

    def get_translations(self):
        locale = get_locale() if has_app_context() else None
        if locale is None:
            return super().get_translations()
        kept = g.get("_i18n_translations")
        if kept is None or kept[0] is not locale:
            kept = g._i18n_translations = (locale, super().get_translations())
        return kept[1]


class Babel(flask_babel.Babel):
    """Flask-Babel with the per-request catalog above as its default domain."""

    @cached_property
    def domain_instance(self):
        return RequestDomain(domain=self.domain)


def select_locale() -> str:
    """The language the user chose (session), else zh_CN; an English browser alone does not switch it."""
    lang = session.get("lang") if request else None
    return lang if lang in LANGUAGES else "zh_CN"


def select_timezone() -> str:
    return "Asia/Shanghai"


def _english() -> bool:
    locale = get_locale()
    return bool(locale and locale.language == "en")


def colon() -> str:
    """The colon after a label: full-width in Chinese, ": " in English."""
    return ": " if _english() else "："


def paren(value) -> Markup:
    """A value in brackets after a word: （3） in Chinese, " (3)" in English."""
    return Markup(" ({})" if _english() else "（{}）").format(escape(value))


def init_app(app: Flask) -> None:
    from .extensions import babel

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.globals["colon"] = colon
    app.jinja_env.filters["paren"] = paren

    @app.context_processor
    def inject_locale():
        locale = get_locale()
        return {"current_lang": "en" if locale and locale.language == "en" else "zh_CN",
                "html_lang": "en" if locale and locale.language == "en" else "zh-CN"}
