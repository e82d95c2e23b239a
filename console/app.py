"""The Textual console: one app, a screen per area of the back office.

API for screens
---------------
`BackofficeApp(settings=..., engine=..., kiosk=False, now=None, kiosk_timing=None)`
    `now` fixes the clock (snapshot tests); None means the live clock. Screens
    pass `app.clock()` to every core function that takes `now`. `kiosk=True`
    is `--kiosk`: kiosk mode, locked for the run. `kiosk_timing`
    (console/screens/kiosk.py `KioskTiming`) sets the kiosk's rotation,
    refresh and retry intervals.

`app.navigate(name, **params)`
    Opens the screen registered under `name` in console/screens/__init__.py
    (`SCREENS`). Section screens (dashboard, accounts, users, billing_events,
    invoices and the coming-soon ones) each live in their own Textual mode, so
    a list keeps its search, filters and page when you leave and come back;
    navigating to a section brings its list back to the top of its mode and
    hands it the params through `apply_params(**params)`. Detail screens
    (account, user) are pushed on the current section with `cls(**params)`, e.g.
    `navigate("accounts", filter="drift")`, `navigate("account", tenant_id=...)`,
    `navigate("user", user_id=...)`. `escape` goes back: pops a detail, then
    returns to the previously visited section.

`app.is_admin` (reactive bool)
    Whether the database role is an admin (db.engine.is_admin), computed once
    at start in a worker; False until known. `app.can_admin` is `is_admin and
    not kiosk`: hide every admin key and menu entry when it is False (the base
    screen already disables the admin keys of console/keys.py).

`app.kiosk` (reactive bool)
    Kiosk mode: the wall display (console/screens/kiosk.py) in a mode of its
    own, class `-kiosk` on the app. No key works in it but ctrl+q (quit) and,
    unless `app.kiosk_locked` (started with `--kiosk`), ctrl+k, which asks
    before leaving; navigation is refused and nothing can be changed.

`app.read_only()`
    A read-only connection context (db.engine.read_only) for worker threads.
    The console runs no SQL of its own: workers call core functions with it.

Base screen: console/screens/base.py `BackofficeScreen` (banners, header, side
menu, footer). Labels: console/i18n.py `t("key", **params)` with catalogs in
translations/<locale>/<area>.json. Figures: console/formatting.py. Keys:
console/keys.py (the footer, the help screen and the command palette read it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine
from textual import work
from textual.app import App
from textual.binding import BindingsMap
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.signal import Signal
from textual.timer import Timer
from textual.worker import get_current_worker

from console import i18n, keys, preferences
from console.palette import JumpProvider, KeysProvider
from console.resources import data_path
from console.screens import SCREENS, SECTIONS
from console.screens.kiosk import KioskScreen, KioskTiming, LeaveKioskDialog
from console.themes import THEMES
from console.widgets.banners import load_banners
from core.banners import Banners
from core.clock import utcnow
from core.settings import Settings
from db import engine as db_engine

BANNER_REFRESH_SECONDS = 60
BANNER_RETRY_SECONDS = 15
KIOSK_MODE = "kiosk"
# The only actions a kiosk lets through: Textual's own quit (ctrl+q).
KIOSK_ACTIONS = frozenset({"quit"})


class BackofficeApp(App[None]):
    CSS_PATH = data_path("backoffice.tcss")
    TITLE = "Back Office"
    MODES = {name: SCREENS[name] for name in SECTIONS}
    COMMANDS = App.COMMANDS | {JumpProvider, KeysProvider}
    # Narrow terminals (80 columns) get a slimmer menu and single-column cards.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide"), (180, "-very-wide")]

    is_admin: reactive[bool] = reactive(False)
    kiosk: reactive[bool] = reactive(False, init=False)

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        kiosk: bool = False,
        now: datetime | None = None,
        kiosk_timing: KioskTiming | None = None,
    ) -> None:
        i18n.set_locale(settings.locale)
        super().__init__()
        self.settings = settings
        self.engine = engine
        self.now = now
        self.kiosk_timing = kiosk_timing or KioskTiming()
        # --kiosk: no key leaves kiosk mode during this run.
        self.kiosk_locked = kiosk
        self._kiosk_mode_added = False
        self.title = i18n.t("app.title")
        self._bindings = BindingsMap([*(b for _, b in self._bindings), *keys.bindings("global")])
        self.banner_state: Banners | None = None
        self.banners_changed: Signal[Banners | None] = Signal(self, "banners-changed")
        self._history: list[str] = []
        self._banner_timer: Timer | None = None
        stored = preferences.load()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = stored.theme if stored.theme in self.available_themes else preferences.DEFAULT_THEME
        # --kiosk forces kiosk on for this run; otherwise the machine's preference.
        self.set_reactive(BackofficeApp.kiosk, kiosk or stored.kiosk)

    # -- clock and database ------------------------------------------------

    def clock(self) -> datetime:
        """The `now` every core call gets: fixed in tests, live otherwise."""
        return self.now or utcnow()

    @contextmanager
    def read_only(self) -> Iterator[Connection]:
        with db_engine.read_only(self.engine) as conn:
            yield conn

    @property
    def can_admin(self) -> bool:
        return self.is_admin and not self.kiosk

    # -- start -------------------------------------------------------------

    async def on_mount(self) -> None:
        self.set_class(self.kiosk, "-kiosk")
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        # Awaited: a key typed during start-up is handled after the dashboard
        # is in place, so the dashboard cannot replace the screen it opened.
        await (self._open_kiosk() if self.kiosk else self.switch_mode("dashboard"))
        self._load_admin()
        self._load_banners()

    @work(thread=True, exclusive=True, group="admin")
    def _load_admin(self) -> None:
        try:
            with self.read_only() as conn:
                admin = db_engine.is_admin(conn)
        except Exception:
            # Not knowing means not admin (the cards show the outage); ask again later.
            self.call_from_thread(self.set_timer, BANNER_RETRY_SECONDS, self._load_admin)
            return
        self.call_from_thread(setattr, self, "is_admin", admin)

    def watch_is_admin(self) -> None:
        self.refresh_bindings()

    # -- banners -----------------------------------------------------------

    def refresh_banners(self) -> None:
        """Reload the banner conditions now (e.g. after a sync changed them)."""
        self._stop_banner_timer()
        self._load_banners()

    @work(thread=True, exclusive=True, group="banners")
    def _load_banners(self) -> None:
        worker = get_current_worker()
        try:
            with self.read_only() as conn:
                state = load_banners(conn)
        except Exception:
            # Keep showing the last known state; try again soon.
            if not worker.is_cancelled:
                self.call_from_thread(self._arm_banner_timer, BANNER_RETRY_SECONDS)
            return
        if not worker.is_cancelled:
            self.call_from_thread(self._show_banners, state)

    def _show_banners(self, state: Banners) -> None:
        self.banner_state = state
        self.banners_changed.publish(state)
        self._arm_banner_timer(BANNER_REFRESH_SECONDS)

    def _arm_banner_timer(self, seconds: float) -> None:
        # Re-armed after each load, so a slow query never overlaps the next one.
        self._stop_banner_timer()
        self._banner_timer = self.set_timer(seconds, self._load_banners)

    def _stop_banner_timer(self) -> None:
        if self._banner_timer is not None:
            self._banner_timer.stop()
            self._banner_timer = None

    # -- navigation --------------------------------------------------------

    def navigate(self, name: str, **params: Any) -> None:
        screen_class = SCREENS.get(name)
        if screen_class is None:
            raise KeyError(f"no screen registered as {name!r}")
        if self.kiosk:
            self.notify(i18n.t("kiosk.blocked"), severity="warning")
            return
        while isinstance(self.screen, ModalScreen):
            self.pop_screen()
        if name in SECTIONS:
            self._open_section(name, params)
        else:
            self.push_screen(screen_class(**params))

    def _open_section(self, name: str, params: dict[str, Any]) -> None:
        if name != self.current_mode:
            self._history = [mode for mode in self._history if mode != self.current_mode]
            self._history.append(self.current_mode)
            self.switch_mode(name)
        while len(self.screen_stack) > 1:
            self.pop_screen()
        if params:
            self.screen.apply_params(**params)  # type: ignore[attr-defined]

    def action_navigate(self, name: str) -> None:
        self.navigate(name)

    def action_back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()
            return
        if self.kiosk:
            return
        previous = self._history.pop() if self._history else "dashboard"
        if previous != self.current_mode:
            self.switch_mode(previous)

    # -- kiosk, help, operator menu ----------------------------------------

    def action_toggle_kiosk(self) -> None:
        """The operator menu's kiosk entry (remembered on this machine)."""
        if self.kiosk_locked:
            return
        self.kiosk = not self.kiosk
        try:
            preferences.update(kiosk=self.kiosk)
        except OSError as error:
            self.notify(i18n.t("preferences.save_failed", error=error), severity="error")

    def action_leave_kiosk(self) -> None:
        """ctrl+k: leaving a wall display takes a second, deliberate key."""
        if not isinstance(self.screen, LeaveKioskDialog):
            self.push_screen(LeaveKioskDialog(), self._left_kiosk)

    def _left_kiosk(self, leave: bool | None) -> None:
        if leave and self.kiosk:
            self.action_toggle_kiosk()

    async def watch_kiosk(self, kiosk: bool) -> None:
        self.set_class(kiosk, "-kiosk")
        if kiosk:
            await self._open_kiosk()
        else:
            await self._close_kiosk()
        self.notify(i18n.t("kiosk.on" if kiosk else "kiosk.off"), timeout=4)
        self.refresh_bindings()

    async def _open_kiosk(self) -> None:
        while isinstance(self.screen, ModalScreen):
            self.pop_screen()
        if not self._kiosk_mode_added:
            self.add_mode(KIOSK_MODE, lambda: KioskScreen(self.kiosk_timing))
            self._kiosk_mode_added = True
        await self.switch_mode(KIOSK_MODE)

    async def _close_kiosk(self) -> None:
        """Back to the dashboard; the wall display goes, with its timers."""
        if self.current_mode == KIOSK_MODE:
            await self.switch_mode("dashboard")
        if self._kiosk_mode_added:
            self._kiosk_mode_added = False
            await self.remove_mode(KIOSK_MODE)

    def action_help(self) -> None:
        from console.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_operator_menu(self) -> None:
        from console.screens.operator_menu import OperatorMenu

        if not isinstance(self.screen, OperatorMenu):
            self.push_screen(OperatorMenu())

    def action_quit_unless_kiosk(self) -> None:
        """`q`: a stray key on a wall display must not end it (ctrl+q still quits)."""
        self.exit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave_kiosk":
            return self.kiosk and not self.kiosk_locked
        if self.kiosk:
            return action in KIOSK_ACTIONS
        return True

    # -- themes ------------------------------------------------------------

    def _remember_theme(self, theme: Any) -> None:
        if theme.name == preferences.load().theme:
            return
        try:
            preferences.update(theme=theme.name)
        except OSError as error:
            self.notify(i18n.t("preferences.save_failed", error=error), severity="error")
