"""Widgets of the Strata TUI; each owns its look and posts messages to its screen."""
