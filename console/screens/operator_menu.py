"""The operator menu (`o`, or a click on the operator in the header): who and
where you are, kiosk mode on/off, theme, language, help, quit.

The language entry switches to the next shipped locale at once, every screen
included (console/relocalize.py, docs/rules.md R131)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from console.app_access import backoffice
from console.i18n import current_locale, locale_name, next_locale, t
from console.palette import theme_label
from db.engine import describe


class OperatorMenu(ModalScreen[None]):
    BINDINGS = [Binding("escape,o", "dismiss", show=False)]

    def compose(self) -> ComposeResult:
        app = backoffice(self)
        settings = app.settings
        info = [
            t("operator_menu.database", database=describe(app.engine)),
            t("operator_menu.role_admin" if app.is_admin else "operator_menu.role_reader"),
        ]
        options: list[Option | None] = [Option(Text(line, style="dim"), disabled=True) for line in info]
        options.append(None)
        kiosk_label = "operator_menu.exit_kiosk" if app.kiosk else "operator_menu.enter_kiosk"
        options.append(Option(t(kiosk_label), id="kiosk"))
        options.append(Option(t("operator_menu.theme", name=theme_label(app.theme)), id="theme"))
        locale = current_locale()
        language = t("language.menu_entry", name=locale_name(locale), other=locale_name(next_locale(locale)))
        options.append(Option(language, id="locale"))
        options.append(Option(t("operator_menu.help"), id="help"))
        if not app.kiosk:
            options.append(Option(t("operator_menu.quit"), id="quit"))
        menu = OptionList(*options, id="operator-menu")
        menu.border_title = t("operator_menu.title", operator=settings.operator)
        yield menu

    def on_mount(self) -> None:
        menu = self.query_one(OptionList)
        menu.highlighted = menu.get_option_index("kiosk")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        app = backoffice(self)
        self.dismiss(None)
        if event.option_id == "kiosk":
            app.action_toggle_kiosk()
        elif event.option_id == "theme":
            app.action_change_theme()
        elif event.option_id == "locale":
            app.call_later(app.switch_locale, next_locale(current_locale()))
        elif event.option_id == "help":
            app.action_help()
        elif event.option_id == "quit":
            app.exit()
