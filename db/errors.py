"""The root of the failures an operator can act on (docs/rules.md R99). It
lives in the lowest layer because the database URL is checked here; core's
errors derive from it."""


class OperatorError(Exception):
    """A clear, one-line failure (exit 1)."""

    exit_code = 1


class BadDatabaseUrl(OperatorError):
    """The database URL is not a PostgreSQL one (a usage error when it is a flag)."""
