"""The running BackofficeApp, typed, for any screen or widget of the console.

Textual types `node.app` as a plain `App`; every screen and widget here runs
inside a BackofficeApp, so this one accessor says so once instead of a
`type: ignore` at each use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.app import App

if TYPE_CHECKING:
    from console.app import BackofficeApp


class InApp(Protocol):
    """A screen, a widget or a command-palette provider."""

    @property
    def app(self) -> App[Any]: ...


def backoffice(node: InApp) -> BackofficeApp:
    """`node.app` as the BackofficeApp it is."""
    return cast("BackofficeApp", node.app)
