from tests.stripe_emulator import localstripe, localstripe_url  # noqa: F401
