"""Command palette (ctrl+p): jump to any account or user by name, or to an
account by its Stripe customer or subscription id (docs/rules.md R123), or run
any key's action (console/keys.py) by its description. Accounts show their
initials badge (R121)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.align import Align
from rich.text import Text
from sqlalchemy import Connection
from textual.command import CommandList, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.widgets.option_list import Option
from textual.worker import WorkerCancelled, WorkerFailed

from console import keys
from console.app_access import backoffice
from console.i18n import has_key, t
from console.themes import THEMES
from console.widgets.badges import initials_badge
from core.users import SEARCH_MINIMUM

if TYPE_CHECKING:
    from console.app import BackofficeApp

JUMP_LIMIT = 8


@dataclass(frozen=True)
class Jump:
    """One palette result: a screen to open and how to name it."""

    kind: str  # "account" or "user"
    label: str
    detail: str
    params: dict[str, Any]
    exact: bool = False  # found by its Stripe id: the best match there is


def find_jumps(conn: Connection, query: str) -> list[Jump]:
    """Accounts and users whose name matches, through the core list queries;
    for a `cus_`/`sub_` id, the one account that carries it exactly."""
    from core.accounts import list_accounts
    from core.paging import PageRequest
    from core.stripe_lookup import account_by_stripe_id, is_stripe_account_id
    from core.users import list_users

    if is_stripe_account_id(query):
        found = account_by_stripe_id(conn, query)
        if found is None:
            return []
        detail = f"{query.strip()} · {t(f'enum.plan.{found.plan}')}"
        return [Jump("account", found.name, detail, {"tenant_id": found.id}, exact=True)]
    page = PageRequest(page=1, page_size=JUMP_LIMIT)
    jumps = [
        Jump("account", account.name, t(f"enum.plan.{account.plan}"), {"tenant_id": account.id})
        for account in list_accounts(conn, search=query, page=page, estimate_large_total=True).items
    ]
    for user in list_users(conn, search=query, page=page, estimate_large_total=True).items:
        jumps.append(Jump("user", user.display_name, f"{user.email} · {user.tenant_name}", {"user_id": user.id}))
    return jumps


class JumpProvider(Provider):
    """Searches accounts and users in a worker; the latest query wins."""

    @property
    def backoffice(self) -> BackofficeApp:
        return backoffice(self)

    async def search(self, query: str) -> Hits:
        query = query.strip()
        if len(query) < SEARCH_MINIMUM or self.backoffice.kiosk:
            return
        worker = self.app.run_worker(partial(self._find, query), thread=True, exclusive=True, group="palette-search")
        try:
            jumps = await worker.wait()
        except WorkerCancelled:
            return
        except WorkerFailed as failure:
            self.app.notify(t("palette.searching_failed", error=failure.error), severity="error")
            return
        matcher = self.matcher(query)
        for jump in jumps or []:
            kind = t(f"palette.{jump.kind}")
            text = f"{kind}: {jump.label}"
            score = 1.0 if jump.exact else matcher.match(jump.label) or 0.5
            display = matcher.highlight(text)
            if jump.kind == "account":
                badge = initials_badge(jump.label, jump.params["tenant_id"])
                display = Content.from_rich_text(badge) + Content(" ") + display
            yield Hit(
                score,
                display,
                partial(self.backoffice.navigate, jump.kind, **jump.params),
                text=text,
                help=jump.detail,
            )

    def _find(self, query: str) -> list[Jump]:
        with self.backoffice.read_only() as conn:
            return find_jumps(conn, query)


class KeysProvider(Provider):
    """Every palette-worthy key of the current screen, by its description."""

    def _entries(self) -> list[tuple[str, str, keys.Key]]:
        scopes = ("global", *getattr(self.screen, "KEY_SCOPES", ()))
        app: Any = self.app
        entries = []
        offers = getattr(self.screen, "offers", lambda action: True)
        for scope in scopes:
            for entry in keys.keys_in(scope, admin=app.can_admin):
                if entry.palette and offers(entry.action):
                    entries.append((t(entry.description), keys.display(entry), entry))
        return entries

    async def discover(self) -> Hits:
        for description, key, entry in self._entries():
            yield DiscoveryHit(description, partial(self._run, entry), help=key)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for description, key, entry in self._entries():
            score = matcher.match(description)
            if score > 0:
                yield Hit(score, matcher.highlight(description), partial(self._run, entry), help=key)

    async def _run(self, entry: keys.Key) -> None:
        namespace = self.app if entry.scope == "global" else self.screen
        await self.app.run_action(entry.action, namespace)


def theme_label(name: str) -> str:
    """A theme as the operator reads it: "Dark (back office)" for ours, the
    name for any other."""
    key = f"theme.name.{name.replace('-', '_')}"
    return t(key) if has_key(key) else name


class ThemesProvider(Provider):
    """The palette's theme picker: the console's own themes, by translated name."""

    def _themes(self) -> list[tuple[str, str]]:
        return [(theme_label(theme.name), theme.name) for theme in THEMES]

    async def discover(self) -> Hits:
        for label, name in self._themes():
            yield DiscoveryHit(label, partial(self._use, name))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, name in self._themes():
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), partial(self._use, name))

    def _use(self, name: str) -> None:
        self.app.theme = name


class Palette(CommandPalette):
    """Textual's command palette, its one sentence of its own ("No matches
    found") from the catalogs too."""

    def _start_no_matches_countdown(self, search_value: str) -> None:
        super()._start_no_matches_countdown(search_value)
        if search_value:
            # Textual's timer would add its English line: ours adds the translated one.
            if self._no_matches_timer is not None:
                self._no_matches_timer.stop()
            self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, self._show_no_matches)

    def _show_no_matches(self) -> None:
        self.query_one(CommandList).add_option(
            Option(Align.center(Text(t("palette.no_matches"), style="not bold")), disabled=True, id=self._NO_MATCHES)
        )
        self._list_visible = True
