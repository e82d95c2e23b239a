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
    A read-only connection context for worker threads, on the engine reads go
    to (`app.engines`, db/engine.py `Engines`: the replica of
    --read-database-url, else the primary). The console runs no SQL of its
    own: workers call core functions with it. `app.engine` is the primary,
    where admin actions write.

Base screen: console/screens/base.py `BackofficeScreen` (banners, header, side
menu, footer). Labels: console/i18n.py `t("key", **params)` with catalogs in
translations/<locale>/<area>.json. Figures: console/formatting.py. Keys:
console/keys.py (the footer, the help screen and the command palette read it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine
from textual import events, work
from textual.app import App, SystemCommand
from textual.command import CommandPalette
from textual.filter import Monochrome, NoColor
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.timer import Timer
from textual.worker import get_current_worker

from console import i18n, keys, preferences
from console.palette import JumpProvider, KeysProvider, Palette, ThemesProvider
from console.resources import data_path
from console.screens import SCREENS, SECTIONS
from console.screens.kiosk import KioskScreen, KioskTiming, LeaveKioskDialog
from console.themes import THEMES
from console.widgets.banners import load_banners
from console.widgets.kiosk_status import Problem
from core.banners import Banners
from core.clock import utcnow
from core.settings import SUPPORTED_LOCALES, Settings
from db import engine as db_engine

BANNER_REFRESH_SECONDS = 60
BANNER_RETRY_SECONDS = 15
KIOSK_MODE = "kiosk"
# Narrower terminals get the side menu folded to a rail of its keys.
MENU_RAIL_BELOW = 100
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
    menu_rail: reactive[bool] = reactive(False)
    kiosk: reactive[bool] = reactive(False, init=False)

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        engines: db_engine.Engines | None = None,
        kiosk: bool = False,
        now: datetime | None = None,
        kiosk_timing: KioskTiming | None = None,
        locale_given: bool = True,
    ) -> None:
        # `locale_given` (--locale, or a test): settings.locale for this run;
        # otherwise the operator menu's remembered choice, if any (docs/rules.md R131).
        self.locale_given = locale_given
        remembered = "" if locale_given else preferences.load().locale
        if remembered in SUPPORTED_LOCALES:
            settings = replace(settings, locale=remembered)
        i18n.set_locale(settings.locale)
        super().__init__()
        self.settings = settings
        self.engine = engine
        # Which engine reads go to; without a replica, the primary (docs/rules.md R160).
        self.engines = engines or db_engine.Engines(engine)
        self.engines.on_replica_change = self._replica_answered_from_worker
        self.replica_changed: Signal[bool] = Signal(self, "replica-changed")
        self.now = now
        self.kiosk_timing = kiosk_timing or KioskTiming()
        # --kiosk: no key leaves kiosk mode during this run.
        self.kiosk_locked = kiosk
        self._kiosk_mode_added = False
        self.title = i18n.t("app.title")
        keys.bind_scopes(self, "global")
        self._translate_textual_palette_binding()
        self.banner_state: Banners | None = None
        self.banners_changed: Signal[Banners | None] = Signal(self, "banners-changed")
        # Why the database cannot be read, since when, and how often it is tried again.
        self.database_problem: Problem | None = None
        self.database_retry_seconds: float = BANNER_RETRY_SECONDS
        self.database_changed: Signal[Problem | None] = Signal(self, "database-changed")
        self._history: list[str] = []
        self._banner_timer: Timer | None = None
        self._menu_choice: bool | None = None  # ctrl+b's fold; None: by the width
        stored = preferences.load()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = stored.theme if stored.theme in self.available_themes else preferences.DEFAULT_THEME
        self._follow_no_color()
        # --kiosk forces kiosk on for this run; otherwise the machine's preference.
        self.set_reactive(BackofficeApp.kiosk, kiosk or stored.kiosk)

    # -- clock and database ------------------------------------------------

    def clock(self) -> datetime:
        """The `now` every core call gets: fixed in tests, live otherwise."""
        return self.now or utcnow()

    @contextmanager
    def read_only(self) -> Iterator[Connection]:
        with self.engines.reading() as conn:
            yield conn

    def _replica_answered_from_worker(self, reachable: bool) -> None:
        if not self.is_running:
            return
        try:
            self.call_from_thread(self._replica_answered, reachable)
        except RuntimeError:  # on the UI thread already
            self._replica_answered(reachable)

    def _replica_answered(self, reachable: bool) -> None:
        """Said once when the replica stops answering, and once when it is back
        (docs/rules.md R162); the header shows it meanwhile."""
        if reachable:
            self.notify(i18n.t("replica.back"), title=i18n.t("replica.title"), timeout=6)
        else:
            seconds = max(1, round(self.engines.recheck_seconds))
            self.notify(
                i18n.t("replica.unreachable", seconds=seconds),
                title=i18n.t("replica.title"),
                severity="warning",
                timeout=10,
            )
        self.replica_changed.publish(reachable)

    @property
    def can_admin(self) -> bool:
        return self.is_admin and not self.kiosk

    # -- start -------------------------------------------------------------

    async def on_mount(self) -> None:
        self.set_class(self.kiosk, "-kiosk")
        self.menu_rail = self.size.width < MENU_RAIL_BELOW
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.theme_changed_signal.subscribe(self, lambda _theme: self._follow_no_color())
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
        except Exception as error:
            # Keep showing the last known state; try again soon.
            if not worker.is_cancelled:
                reachable = db_engine.failure(error) is not db_engine.Failure.UNREACHABLE
                self.call_from_thread(self.database_answered, reachable, BANNER_RETRY_SECONDS)
                self.call_from_thread(self._arm_banner_timer, BANNER_RETRY_SECONDS)
            return
        if not worker.is_cancelled:
            self.call_from_thread(self._show_banners, state)

    def database_answered(self, reachable: bool, retry_seconds: float) -> None:
        """A reader's news about the database (the banners, the dashboard):
        every screen's banner strip says once that it is out of reach, since
        when and how often it is tried, instead of each card saying it."""
        if reachable:
            changed = self.database_problem is not None
            self.database_problem = None
        else:
            changed = self.database_problem is None or retry_seconds != self.database_retry_seconds
            if self.database_problem is None:
                self.database_problem = Problem("unreachable", self.clock())
            self.database_retry_seconds = retry_seconds
        if changed:
            self.database_changed.publish(self.database_problem)

    def _show_banners(self, state: Banners) -> None:
        self.database_answered(True, BANNER_RETRY_SECONDS)
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

    async def action_back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()
            return
        if self.kiosk:
            return
        previous = self._history.pop() if self._history else "dashboard"
        if previous != self.current_mode:
            self.switch_mode(previous)

    # -- the side menu -----------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        if self._menu_choice is None:
            self.menu_rail = event.size.width < MENU_RAIL_BELOW

    def action_toggle_menu(self) -> None:
        """ctrl+b: fold or unfold the menu, whatever the width, for this run."""
        self._menu_choice = not self.menu_rail
        self.menu_rail = self._menu_choice

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

    # -- the command palette, in the operator's language ---------------------

    def _translate_textual_palette_binding(self) -> None:
        """Textual binds ctrl+p itself, described in English ("palette"), and
        the footer shows that binding: its words come from the catalogs too."""
        key = self.COMMAND_PALETTE_BINDING
        self._bindings.key_to_bindings[key] = [
            replace(b, description=i18n.t("palette.footer"), tooltip=i18n.t("keys.command_palette"))
            if b.id is None
            else b
            for b in self._bindings.key_to_bindings.get(key, [])
        ]

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(cast("App[object]", self)):
            self.push_screen(Palette(id="--command-palette", placeholder=i18n.t("palette.search")))

    def search_themes(self) -> None:
        self.push_screen(Palette(providers=[ThemesProvider], placeholder=i18n.t("palette.search_themes")))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's own palette entries, translated: theme, quit, keys,
        maximize and screenshot."""
        yield SystemCommand(i18n.t("palette.theme"), i18n.t("palette.theme_help"), self.action_change_theme)
        yield SystemCommand(i18n.t("palette.quit"), i18n.t("palette.quit_help"), self.action_quit)
        if screen.query("HelpPanel"):
            yield SystemCommand(i18n.t("palette.keys"), i18n.t("palette.hide_keys_help"), self.action_hide_help_panel)
        else:
            yield SystemCommand(i18n.t("palette.keys"), i18n.t("palette.keys_help"), self.action_show_help_panel)
        if screen.maximized is not None:
            yield SystemCommand(i18n.t("palette.minimize"), i18n.t("palette.minimize_help"), screen.action_minimize)
        elif screen.focused is not None and screen.focused.allow_maximize:
            yield SystemCommand(i18n.t("palette.maximize"), i18n.t("palette.maximize_help"), screen.action_maximize)
        yield SystemCommand(
            i18n.t("palette.screenshot"),
            i18n.t("palette.screenshot_help"),
            lambda: self.set_timer(0.1, self.deliver_screenshot),
        )

    async def switch_locale(self, locale: str) -> None:
        """The operator menu's language entry: every screen again in `locale`
        (console/relocalize.py), remembered unless --locale chose this run's."""
        from console.relocalize import switch_language

        await switch_language(self, locale)

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

    def _follow_no_color(self) -> None:
        """NO_COLOR: Textual picks its colour-removing filter once, for the
        theme it starts with. A 16-colour theme draws in the terminal's own
        default colours, which greyscaling turns to black on black, so it gets
        the filter that drops colours instead, and back when the theme changes."""
        if not self.no_color:
            return
        wanted = NoColor() if self.native_ansi_color else Monochrome()
        self._filters = [wanted if isinstance(f, (NoColor, Monochrome)) else f for f in self._filters]
        self.refresh(repaint=True, layout=False)

    def _remember_theme(self, theme: Any) -> None:
        if theme.name == preferences.load().theme:
            return
        try:
            preferences.update(theme=theme.name)
        except OSError as error:
            self.notify(i18n.t("preferences.save_failed", error=error), severity="error")
