"""The layers at run time: importing the lower packages in a fresh
interpreter loads no terminal UI (import-linter checks the static imports,
`make check`; this catches one made at run time, e.g. by a plugin hook)."""

from __future__ import annotations

import json
import subprocess
import sys

UI_MODULES = ("textual", "textual_plotext", "plotext", "rich")


def test_core_stripe_sync_and_db_load_no_terminal_ui() -> None:
    program = (
        "import json, pkgutil, importlib, sys\n"
        "import core, stripe_sync, db\n"
        "for package in (core, stripe_sync, db):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        if '.migrations' not in module.name:\n"
        "            importlib.import_module(module.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", program], check=True, capture_output=True, text=True).stdout
    )
    assert "core.money" in loaded and "stripe_sync.webhook" in loaded
    assert [name for name in loaded if name.split(".")[0] in UI_MODULES] == []
