"""Chinese by default, English on request.

Source strings are Chinese, so the default interface needs no catalog (and so is immune to
Flask-Babel turning zh_CN into zh_Hans_CN); translations/en holds the English catalog.
"""
from flask import Flask, request, session
from flask_babel import get_locale
from markupsafe import Markup, escape

from .extensions import babel

LANGUAGES = ("zh_CN", "en")


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
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.globals["colon"] = colon
    app.jinja_env.filters["paren"] = paren

    @app.context_processor
    def inject_locale():
        locale = get_locale()
        return {"current_lang": "en" if locale and locale.language == "en" else "zh_CN",
                "html_lang": "en" if locale and locale.language == "en" else "zh-CN"}
