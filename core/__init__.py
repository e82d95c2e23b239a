"""The back office's shared library: every query and rule; no UI imports."""
