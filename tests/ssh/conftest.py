"""Fixtures of the SSH tests: operator roles under a prefix of the test's
own, dropped afterwards (roles are cluster-wide)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.operator_roles import PREFIX_ENV
from tests.ssh.support import drop_prefixed_roles, unique_prefix


@pytest.fixture
def role_prefix(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The operator role prefix of this test, in the environment the
    server and the consoles it starts inherit."""
    prefix = unique_prefix()
    monkeypatch.setenv(PREFIX_ENV, prefix)
    yield prefix
    drop_prefixed_roles(database_url, prefix)
