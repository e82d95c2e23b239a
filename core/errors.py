"""Failures an operator can act on, each with docs/rules.md R99."""

from db.errors import BadDatabaseUrl, OperatorError

__all__ = ["BadDatabaseUrl", "Forbidden", "NotFound", "OperatorError", "StripeNotConfigured"]


class NotFound(OperatorError):
    exit_code = 1


class Forbidden(OperatorError):
    """The operator is not an admin (exit 3)."""

    exit_code = 3


class StripeNotConfigured(OperatorError):
    """No Stripe key (or webhook secret) is configured (exit 4)."""

    exit_code = 4

    def __init__(self, message: str = "Stripe is not configured: set STRIPE_API_KEY") -> None:
        super().__init__(message)
