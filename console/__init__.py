"""The Textual console and the `backoffice` command line."""
