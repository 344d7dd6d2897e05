"""The request's translation catalog, found fast (core.i18n keeps it on g; templates, countdowns and enum labels
read it hundreds of times a page). Imports nothing of the product, so enums can use it."""
from flask.globals import _cv_app


def kept_translations():
    """The catalog core.i18n.RequestDomain kept on g for this request's locale, or None when there is none yet (no
    app context, nothing translated yet in this request, or a locale forced or refreshed since: the locale object,
    or the domain, it was kept for is no longer the current one)."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return None
    kept_on = app_ctx.g.__dict__
    babel_ctx, kept = kept_on.get("_flask_babel"), kept_on.get("_i18n_translations")
    if kept is None or babel_ctx is None:
        return None
    current = (getattr(babel_ctx, "babel_locale", None), getattr(babel_ctx, "babel_domain", None))
    return kept[1] if current[0] is kept[0] and current[1] is kept[2] else None
