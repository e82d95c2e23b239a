"""The customer's own doings in a billing story: becoming a Stripe customer,
changing billing details, replacing the card."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import accumulate

from demo import stripe_objects as so
from demo import words
from demo.accounts import billing_address, billing_info
from demo.story_state import StoryState

_BRAND_WEIGHTS = list(accumulate(weight for _, weight in words.CARD_BRANDS))


class CustomerDetails(StoryState):
    def create_customer(self, at: datetime) -> None:
        rng, profile = self.rng, self.profile
        self.customer_id = so.stripe_id(rng, "cus", 14)
        self.billing_info = billing_info(rng, profile.name, profile.domain, profile.owner, profile.country)
        self.emit(at, "customer.created", self.customer_object(), request=True)
        self.attach_new_card(at + timedelta(seconds=rng.uniform(20, 90)), previous_default=None)

    def update_billing_info(self, at: datetime) -> None:
        rng, info = self.rng, self.billing_info
        change = rng.random()
        if change < 0.5:
            previous = {"address": so.address(info["Address"])}
            info["Address"] = billing_address(rng, self.profile.country)
        elif change < 0.8:
            previous = {"email": info["Email"]}
            local = rng.choice(("billing", "invoices", "finance", "okonomi", "bogholderi"))
            info["Email"] = f"{local}@{self.profile.domain}"
        else:
            previous = {"name": info["Name"]}
            info["Name"] = (
                f"{info['Name']} (ex. {rng.choice(('Holding', 'Group', 'Nordic'))})"
                if rng.random() < 0.3
                else info["Name"].upper()
            )
        self.emit(at, "customer.updated", self.customer_object(), previous, request=True)

    def change_payment_method(self, at: datetime) -> None:
        self.attach_new_card(at, previous_default=self.payment_method["id"] if self.payment_method else None)

    def attach_new_card(self, at: datetime, *, previous_default: str | None) -> None:
        rng = self.rng
        brand = rng.choices(words.CARD_BRANDS, cum_weights=_BRAND_WEIGHTS)[0][0]
        card = None
        if brand != "link":
            card = {
                "brand": brand,
                "country": self.profile.country.code,
                "exp_month": rng.randrange(1, 13),
                "exp_year": self.now.year + rng.randrange(0, 5),
                "funding": rng.choice(("credit", "credit", "debit")),
                "last4": f"{rng.randrange(10000):04d}",
            }
        self.payment_method = so.payment_method(
            so.stripe_id(rng, "pm"), so.ts(at), self.customer_id, card, self.billing_info
        )
        attached = self.emit(at, "payment_method.attached", self.payment_method, request=True)
        self.emit(
            attached.created + timedelta(seconds=1),
            "customer.updated",
            self.customer_object(),
            {"invoice_settings": {"default_payment_method": previous_default}},
            request=True,
        )
