"""Preferences: a small file in the config dir, never a reason not to start."""

from __future__ import annotations

from pathlib import Path

from console import preferences


def test_defaults_without_a_file(config_dir: Path) -> None:
    assert preferences.load() == preferences.Preferences(kiosk=False, theme=preferences.DEFAULT_THEME)
    assert preferences.path() == config_dir / "preferences.json"


def test_update_saves_and_load_reads(config_dir: Path) -> None:
    preferences.update(kiosk=True)
    preferences.update(theme="backoffice-ansi")
    assert preferences.load() == preferences.Preferences(kiosk=True, theme="backoffice-ansi")
    assert not list(config_dir.glob("*.tmp"))


def test_a_broken_file_gives_the_defaults(config_dir: Path) -> None:
    config_dir.mkdir(parents=True)
    (config_dir / "preferences.json").write_text("{not json")
    assert preferences.load() == preferences.Preferences()
    (config_dir / "preferences.json").write_text('{"kiosk": "yes", "theme": 3, "unknown": 1}')
    assert preferences.load() == preferences.Preferences()
