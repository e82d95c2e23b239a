"""Widgets of the console: each card or panel is one widget."""
