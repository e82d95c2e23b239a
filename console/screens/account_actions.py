"""Admin actions on one account: Sync with Stripe (`s`), Acknowledge drift
(`A`), Replay archived events (`R`), and the actions menu (`m`) that lists
them with Copy Stripe link (docs/rules.md R54, R67, R69, R103, R120).

The keys are declared admin in console/keys.py, so the base screen hides and
disables them unless `app.can_admin` (an admin role, not in kiosk mode); the
actions check it again before running. Each runs its stripe_sync function in
a worker on the app's engine (they write), shows progress, then a result or
an error dialog with the one-line message; a failure changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from textual import work

from console.formatting import moment, short_date
from console.i18n import t
from console.operator_errors import operator_message
from console.screens.base import BackofficeScreen
from console.widgets.dialogs import ActionsMenu, ConfirmDialog, ProgressDialog, ResultDialog
from core.account_detail import account_detail
from core.audit import console_actor
from core.stripe_links import customer_url
from stripe_sync.archive import ArchiveReplayResult, replay_archive
from stripe_sync.drift import Acknowledgement, acknowledge_drift
from stripe_sync.sync import SyncResult, sync_tenant


@dataclass(frozen=True)
class ActionTarget:
    tenant_id: str
    name: str
    has_drift: bool | None = None  # None: not known yet (read before asking)
    # The Stripe customer; None with `stripe_known` False: not read yet.
    stripe_customer_id: str | None = None
    stripe_known: bool = False


def failure_line(error: BaseException) -> str:
    """What the operator reads: the operator error's sentence in the console's
    language, or the first line of anything else."""
    return operator_message(error)


def sync_result_dialog(name: str, result: SyncResult) -> ResultDialog:
    """Clean: a check and the figures; drift: a warning with the count."""
    lines = [
        t("admin.sync.appended", count=result.billing_events_appended),
        t("admin.sync.synced_at", time=moment(result.synced_at)),
    ]
    if result.has_drift_detected:
        lines.insert(0, t("admin.sync.drift_count", count=result.drift_discrepancy_count))
        lines.append(t("admin.sync.drift_hint"))
    else:
        lines.insert(0, t("admin.sync.matches_stripe"))
    lines.extend(t("admin.sync.change", change=t(f"admin.sync.transition.{change.name}")) for change in result.changes)
    buttons: list[tuple[str, str]] = []
    awaiting = result.archived_events_awaiting_confirmation
    if awaiting is not None:
        lines.append(
            t(
                "admin.sync.archived_awaiting",
                count=awaiting.count,
                oldest=short_date(awaiting.oldest_occurred_at),
                newest=short_date(awaiting.newest_occurred_at),
            )
        )
        buttons.append(("replay", t("admin.replay.button")))
    title_key = "admin.sync.done_drift" if result.has_drift_detected else "admin.sync.done_clean"
    return ResultDialog(
        t(title_key, name=name),
        lines,
        tone="warning" if result.has_drift_detected else "success",
        buttons=buttons,
        dialog_id="sync-result",
    )


STRIPE_ACTIONS = frozenset({"sync", "replay_archived"})
# The actions menu: action, key ("" for an entry of the menu alone).
MENU = (("sync", "s"), ("acknowledge_drift", "A"), ("replay_archived", "R"), ("copy_stripe_link", "L"))


class AccountActionsScreen(BackofficeScreen):
    """A screen with a current account. Subclasses say which account is current
    and how to show the change after a write."""

    def action_target(self) -> ActionTarget | None:
        raise NotImplementedError

    def account_changed(self) -> None:
        """Reload what shows the account (after a successful write)."""

    def _target(self) -> ActionTarget | None:
        if not self.backoffice.can_admin:
            return None
        return self.action_target()

    def _after_write(self) -> None:
        self.account_changed()
        self.backoffice.refresh_banners()

    def offers(self, action: str) -> bool:
        """Syncing and replaying read Stripe: without it they are not offered;
        nor is acknowledging on an account known to have no drift."""
        if action in STRIPE_ACTIONS:
            return self.backoffice.settings.stripe_configured
        if action == "acknowledge_drift":
            target = self.action_target()
            return target is None or target.has_drift is not False
        if action == "copy_stripe_link":
            target = self.action_target()
            return target is None or not target.stripe_known or target.stripe_customer_id is not None
        if action == "account_actions":
            return any(self.offers(name) for name, _ in MENU)
        return super().offers(action)

    def _stripe_ready(self) -> bool:
        """Say at once, as information, that Stripe is missing (not a failure)."""
        if self.backoffice.settings.stripe_configured:
            return True
        self.notify(t("admin.stripe_not_configured"), title=t("admin.unavailable"), severity="information")
        return False

    def _failed(self, progress: ProgressDialog | None, title: str, error: str) -> None:
        if progress is not None:
            progress.dismiss()
        self.app.push_screen(ResultDialog(title, [error], tone="error", dialog_id="action-error"))

    # -- the menu ------------------------------------------------------------

    def action_account_actions(self) -> None:
        target = self._target()
        if target is None:
            return
        entries = [
            (action, f"{t(f'keys.{action}')}  ({key})" if key else t(f"keys.{action}"))
            for action, key in MENU
            if self.offers(action)
        ]
        if not entries:
            self.notify(t("admin.nothing_to_do", name=target.name), title=t("keys.account_actions"))
            return

        def chosen(action: str | None) -> None:
            if action:
                self.call_later(self.run_action, action)

        self.app.push_screen(ActionsMenu(t("admin.menu_title", name=target.name), entries), chosen)

    # -- copy the Stripe link --------------------------------------------------

    def action_copy_stripe_link(self) -> None:
        """The customer's dashboard link (R120) to the clipboard with OSC 52, for
        terminals that cannot open a hyperlink; a notification says so. It reads
        and writes nothing, so any operator may (`L`; admins find it in the menu too)."""
        target = self.action_target()
        if target is None:
            return
        if target.stripe_known:
            self._copy(target)
        else:
            self._read_stripe_customer(target)

    def _copy(self, target: ActionTarget) -> None:
        url = customer_url(target.stripe_customer_id, self.backoffice.settings.stripe_api_key)
        if url is None:
            self.notify(t("admin.stripe_link.none", name=target.name), title=t("admin.stripe_link.title"))
            return
        self.app.copy_to_clipboard(url)
        self.notify(t("admin.stripe_link.copied", name=target.name, url=url), title=t("admin.stripe_link.title"))

    @work(thread=True, exclusive=True, group="admin-check")
    def _read_stripe_customer(self, target: ActionTarget) -> None:
        """The list does not carry the customer id: read it, then copy."""
        app = self.backoffice
        try:
            with app.read_only() as conn:
                customer = account_detail(conn, target.tenant_id, app.clock()).stripe_customer_id
        except Exception as error:
            app.call_from_thread(self.notify, failure_line(error), title=t("admin.stripe_link.title"), severity="error")
            return
        app.call_from_thread(self._copy, replace(target, stripe_customer_id=customer, stripe_known=True))

    # -- sync ----------------------------------------------------------------

    def action_sync(self) -> None:
        target = self._target()
        if target is None or not self._stripe_ready():
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                progress = ProgressDialog(t("admin.sync.running", name=target.name))
                self.app.push_screen(progress)
                self._sync(target, progress)

        self.app.push_screen(
            ConfirmDialog(
                t("admin.sync.confirm_title", name=target.name), t("admin.sync.confirm_body"), t("admin.sync.confirm")
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, group="admin")
    def _sync(self, target: ActionTarget, progress: ProgressDialog) -> None:
        app = self.backoffice
        try:
            result = sync_tenant(
                app.engine,
                app.settings,
                int(target.tenant_id),
                now=app.clock(),
                progress=lambda step: app.call_from_thread(progress.report, t(f"admin.sync.step.{step.name}")),
                actor=console_actor(app.settings),
            )
        except Exception as error:  # shown in a dialog; the transaction rolled back
            app.call_from_thread(self._failed, progress, t("admin.sync.failed", name=target.name), failure_line(error))
            return
        app.call_from_thread(self._synced, target, progress, result)

    def _synced(self, target: ActionTarget, progress: ProgressDialog, result: SyncResult) -> None:
        progress.dismiss()
        self._after_write()

        def closed(button: str | None) -> None:
            if button == "replay":
                self.action_replay_archived()

        self.app.push_screen(sync_result_dialog(target.name, result), closed)

    # -- acknowledge drift ---------------------------------------------------

    def action_acknowledge_drift(self) -> None:
        target = self._target()
        if target is not None:
            self._ask_acknowledge(target)

    def _ask_acknowledge(self, target: ActionTarget) -> None:
        """Only drift can be acknowledged: without any, say so rather than ask."""
        if target.has_drift is None:
            self._read_drift(target)
            return
        if not target.has_drift:
            self.notify(t("admin.ack.nothing", name=target.name), title=t("keys.acknowledge_drift"))
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._acknowledge(target)

        self.app.push_screen(
            ConfirmDialog(
                t("admin.ack.confirm_title", name=target.name),
                t("admin.ack.confirm_body"),
                t("admin.ack.confirm"),
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, group="admin-check")
    def _read_drift(self, target: ActionTarget) -> None:
        """Whether there is drift to acknowledge, before asking (the list does not show it)."""
        app = self.backoffice
        try:
            with app.read_only() as conn:
                has_drift = account_detail(conn, target.tenant_id, app.clock()).has_drift_detected
        except Exception:  # the acknowledgement itself will say what is wrong
            has_drift = True
        app.call_from_thread(self._ask_acknowledge, replace(target, has_drift=has_drift))

    @work(thread=True, exclusive=True, group="admin")
    def _acknowledge(self, target: ActionTarget) -> None:
        app = self.backoffice
        try:
            done = acknowledge_drift(
                app.engine, int(target.tenant_id), app.settings.operator, app.clock(), actor=console_actor(app.settings)
            )
        except Exception as error:
            app.call_from_thread(self._failed, None, t("admin.ack.failed", name=target.name), failure_line(error))
            return
        app.call_from_thread(self._acknowledged, target, done)

    def _acknowledged(self, target: ActionTarget, done: Acknowledgement) -> None:
        self._after_write()
        self.notify(
            t("admin.ack.done", name=target.name, count=done.discrepancy_count), title=t("keys.acknowledge_drift")
        )

    # -- replay archived events ----------------------------------------------

    def action_replay_archived(self) -> None:
        target = self._target()
        if target is None or not self._stripe_ready():
            return

        def confirmed(ok: bool | None) -> None:
            if ok:
                progress = ProgressDialog(t("admin.replay.running", name=target.name))
                self.app.push_screen(progress)
                self._replay(target, progress)

        self.app.push_screen(
            ConfirmDialog(
                t("admin.replay.confirm_title", name=target.name),
                t("admin.replay.confirm_body"),
                t("admin.replay.confirm"),
                tone="error",
                destructive=True,
                require=(target.name, target.tenant_id),
                hint=t("admin.replay.type_name", name=target.name),
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, group="admin")
    def _replay(self, target: ActionTarget, progress: ProgressDialog) -> None:
        app = self.backoffice
        try:
            result = replay_archive(
                app.engine, app.settings, int(target.tenant_id), now=app.clock(), actor=console_actor(app.settings)
            )
        except Exception as error:
            app.call_from_thread(
                self._failed, progress, t("admin.replay.failed", name=target.name), failure_line(error)
            )
            return
        app.call_from_thread(self._replayed, target, progress, result)

    def _replayed(self, target: ActionTarget, progress: ProgressDialog, result: ArchiveReplayResult) -> None:
        progress.dismiss()
        self._after_write()
        self.app.push_screen(
            ResultDialog(
                t("admin.replay.done", name=target.name),
                [
                    t(
                        "admin.replay.appended",
                        count=result.billing_events_appended,
                        time=moment(result.replayed_at),
                    )
                ],
                tone="success",
                dialog_id="replay-result",
            )
        )
