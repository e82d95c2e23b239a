"""Stripe client, event ingestion, processing, replay and drift detection."""
