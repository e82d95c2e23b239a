"""Failures an operator can act on, each with the CLI exit code of the contract."""


class OperatorError(Exception):
    """A clear, one-line failure (exit 1)."""

    exit_code = 1


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


class BadDatabaseUrl(OperatorError):
    """The database URL is not a PostgreSQL one (a usage error when it is a flag)."""
