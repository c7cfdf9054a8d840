"""Strata's terminal UI (Textual): explore and manage images without a daemon."""
