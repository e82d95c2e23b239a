"""Command groups shared by several modules (commands are added where they live)."""

import typer

stripe_app = typer.Typer(help="Stripe: receive webhooks, poll events, replay the archive.", no_args_is_help=True)
drift_app = typer.Typer(help="Billing drift between the local ledger and Stripe.", no_args_is_help=True)
