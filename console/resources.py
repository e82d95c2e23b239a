"""Where the console's data files are: the translation catalogs and the stylesheet.

They sit at the repository root, beside the packages. A checkout (or an
editable install) reads them there; a wheel installs them as data files under
`<prefix>/share/backoffice` (pyproject.toml, `[tool.setuptools.data-files]`),
where prefix is the environment's, or the user's base for `pip install --user`.
"""

from __future__ import annotations

import sysconfig
from collections.abc import Sequence
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent
INSTALLED_ROOTS = tuple(
    Path(sysconfig.get_path("data", scheme)) / "share" / "backoffice"
    for scheme in (sysconfig.get_default_scheme(), sysconfig.get_preferred_scheme("user"))
)


def data_path(name: str, *, source_root: Path = SOURCE_ROOT, installed_roots: Sequence[Path] = INSTALLED_ROOTS) -> Path:
    """`name` (e.g. "translations") in the source tree if it is there, else where
    a wheel installed it. Neither: the source-tree path, so the error that
    follows names where the file was expected."""
    for root in (source_root, *installed_roots):
        if (root / name).exists():
            return root / name
    return source_root / name
