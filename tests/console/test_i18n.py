"""Catalogs: both locales complete and consistent; plurals and fallbacks."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from console import i18n, keys
from core.money import MRR_POLICY
from db.enums import BillingEventType, LoginMethod, PaymentTransactionStatus, SubscriptionPlan

LOCALES = ("en-US", "da-DK")


def _placeholders(value: str | dict[str, str]) -> set[str]:
    texts = value.values() if isinstance(value, dict) else [value]
    return {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.set_locale("en-US")


def test_every_key_is_translated_with_the_same_placeholders() -> None:
    english, danish = i18n.load_catalog("en-US"), i18n.load_catalog("da-DK")
    assert set(english) == set(danish)
    for key, value in english.items():
        assert _placeholders(value) == _placeholders(danish[key]), key
        assert isinstance(value, dict) == isinstance(danish[key], dict), key


def test_each_area_has_a_file_in_both_locales() -> None:
    names = {locale: sorted(p.name for p in (i18n.TRANSLATIONS_DIR / locale).glob("*.json")) for locale in LOCALES}
    assert names["en-US"] == names["da-DK"]
    assert {"shell.json", "dashboard.json", "banners.json", "keys.json", "enums.json", "format.json"} <= set(
        names["en-US"]
    )


def test_a_key_defined_in_two_files_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "xx-XX").mkdir()
    (tmp_path / "xx-XX" / "a.json").write_text(json.dumps({"same": "one"}))
    (tmp_path / "xx-XX" / "b.json").write_text(json.dumps({"same": "two"}))
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)
    with pytest.raises(i18n.CatalogError, match="same"):
        i18n.load_catalog.__wrapped__("xx-XX")


def test_representative_danish_pairs() -> None:
    pairs = {
        "menu.accounts": "Konti",
        "menu.billing_events": "Faktureringshændelser",
        "dashboard.kpi.total_accounts": "Konti i alt",
        "dashboard.kpi.blended_mrr": "Samlet MRR",
        "dashboard.chart.account_growth": "Kontovækst",
        "dashboard.chart.user_logins": "Brugerlogins / dag",
        "dashboard.recent.view_all": "Vis alle",
        "operator_menu.enter_kiosk": "Aktivér kiosktilstand",
        "banners.view_accounts": "Vis konti",
        "format.yesterday": "I går",
    }
    i18n.set_locale("da-DK")
    assert {key: i18n.t(key) for key in pairs} == pairs
    assert i18n.t("dashboard.chart.logins_subtitle", total="12", average="3") == "12 i alt · gns. 3/dag"
    assert i18n.t("dashboard.kpi.new_in_period", count=4, days=30) == "+4 nye sidste 30 dage"
    assert i18n.t("dashboard.kpi.new_in_period", count=1, days=30) == "+1 ny sidste 30 dage"


def test_plurals_follow_the_locale() -> None:
    assert i18n.t("banners.drift", count=1) == "1 account has billing drift detected."
    assert i18n.t("banners.drift", count=1200) == "1,200 accounts have billing drift detected."
    i18n.set_locale("da-DK")
    assert i18n.t("banners.unsynced", count=1).startswith("1 konto er endnu ikke synkroniseret")
    assert i18n.t("banners.unsynced", count=3).startswith("3 konti er endnu ikke synkroniseret")


def test_missing_key_falls_back_to_the_key() -> None:
    i18n.set_locale("da-DK")
    assert i18n.t("no.such.key") == "no.such.key"


def test_the_mrr_policy_text_is_core_s() -> None:
    assert i18n.load_catalog("en-US")["dashboard.mrr_policy"] == MRR_POLICY


def test_every_enum_value_and_key_description_has_a_label() -> None:
    english = i18n.load_catalog("en-US")
    for prefix, enum in (
        ("enum.plan", SubscriptionPlan),
        ("enum.event", BillingEventType),
        ("enum.payment_status", PaymentTransactionStatus),
        ("enum.login_method", LoginMethod),
    ):
        for member in enum:
            assert f"{prefix}.{member.value}" in english
    for entry in keys.KEYS:
        assert entry.description in english, entry
    assert not [key for key in english if not re.fullmatch(r"[a-z_]+(\.[A-Za-z_0-9]+)+", key)]
