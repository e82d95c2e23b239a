"""Deterministic, realistic demo data."""
