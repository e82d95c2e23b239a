"""Every label on screen goes through `t("key", **params)`.

Catalogs live in `translations/<locale>/*.json` (console/resources.py finds
the folder), one file per area of the console (shell.json, dashboard.json,
...). All files of a locale are merged at start, so a new screen adds its own
file without touching anyone else's. A key must be unique across files; a
clash is an error, not a silent override.

A value is either a string with `{name}` placeholders, or a plural object
`{"one": "...", "other": "..."}` chosen by the `count` parameter with the CLDR
plural rules of the locale (Babel). `#` in a plural form stands for the
formatted count. A key missing in the active locale falls back to en-US, then
to the key itself, so a missing translation shows up rather than crashing.

The locale can change while the console runs (the operator menu's language
entry, console/relocalize.py): every later `t()` and formatting call speaks
the new one, and the screens are built again to use it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from babel import Locale

from console.resources import data_path

DEFAULT_LOCALE = "en-US"
TRANSLATIONS_DIR = data_path("translations")

Catalog = dict[str, str | dict[str, str]]

_active = DEFAULT_LOCALE


class CatalogError(ValueError):
    pass


@cache
def load_catalog(locale: str) -> Catalog:
    """All files of one locale merged into one mapping."""
    directory = TRANSLATIONS_DIR / locale
    if not directory.is_dir():
        raise CatalogError(f"no translations for {locale} in {TRANSLATIONS_DIR}")
    merged: Catalog = {}
    for path in sorted(directory.glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        for key, value in entries.items():
            if key in merged:
                raise CatalogError(f"{path.name}: key {key!r} is already defined in another {locale} file")
            merged[key] = value
    return merged


@cache
def babel_locale(locale: str) -> Locale:
    return Locale.parse(locale.replace("-", "_"))


def set_locale(locale: str) -> None:
    """Choose the locale of every later `t()` and formatting call."""
    global _active
    load_catalog(locale)  # fail at start, not in the middle of a screen
    _active = locale


def current_locale() -> str:
    return _active


def shipped_locales() -> tuple[str, ...]:
    """The locales with a catalog, in the operator menu's order."""
    from core.settings import SUPPORTED_LOCALES

    return SUPPORTED_LOCALES


def next_locale(locale: str) -> str:
    """The operator menu's language entry switches to the next shipped locale."""
    shipped = shipped_locales()
    return shipped[(shipped.index(locale) + 1) % len(shipped)] if locale in shipped else shipped[0]


def locale_name(locale: str) -> str:
    """A language named in itself ("English (US)", "Dansk"), whatever the active one."""
    value = load_catalog(locale).get("language.own_name")
    return value if isinstance(value, str) else locale


def t(key: str, **params: Any) -> str:
    value = _lookup(key)
    if isinstance(value, dict):
        count = params.get("count", 0)
        form = babel_locale(_active).plural_form(abs(count))
        text = value.get(form) or value["other"]
        text = text.replace("#", _format_count(count))
    else:
        text = value
    return text.format(**params) if params else text


def has_key(key: str) -> bool:
    return key in load_catalog(_active) or key in load_catalog(DEFAULT_LOCALE)


def _lookup(key: str) -> str | dict[str, str]:
    for locale in (_active, DEFAULT_LOCALE):
        value = load_catalog(locale).get(key)
        if value is not None:
            return value
    return key


def _format_count(count: int) -> str:
    from babel.numbers import format_decimal

    return format_decimal(count, locale=babel_locale(_active))
