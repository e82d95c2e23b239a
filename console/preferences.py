"""Per-machine console preferences: a small JSON file in the user config dir.

`BACKOFFICE_CONFIG_DIR` overrides the directory (tests, or several setups on
one machine; the SSH server gives each operator one). A missing or unreadable
file gives the defaults: preferences must never stop the console from starting.

`locale` is the language last chosen in the operator menu ("" until one is):
it wins over BACKOFFICE_LOCALE and the default, and `--locale` wins over it
for that run (docs/rules.md R131).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import platformdirs

FILE_NAME = "preferences.json"
DEFAULT_THEME = "backoffice-dark"


@dataclass(frozen=True)
class Preferences:
    kiosk: bool = False
    theme: str = DEFAULT_THEME
    locale: str = ""  # "" until the operator menu chose one


def config_dir() -> Path:
    override = os.environ.get("BACKOFFICE_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir("backoffice"))


def path() -> Path:
    return config_dir() / FILE_NAME


def load() -> Preferences:
    try:
        stored = json.loads(path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Preferences()
    if not isinstance(stored, dict):
        return Preferences()
    defaults = Preferences()
    known = {}
    for field in fields(Preferences):
        value = stored.get(field.name)
        if isinstance(value, type(getattr(defaults, field.name))):
            known[field.name] = value
    return replace(defaults, **known)


def save(preferences: Preferences) -> None:
    """Write atomically, so a crash never leaves half a file behind."""
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_suffix(".tmp")
    scratch.write_text(json.dumps(asdict(preferences), indent=2) + "\n", encoding="utf-8")
    scratch.replace(target)


def update(**changes: object) -> Preferences:
    """Change some preferences and save them (raises OSError when the file cannot be written)."""
    preferences = replace(load(), **changes)  # type: ignore[arg-type]  # keyword names are the fields'
    save(preferences)
    return preferences
