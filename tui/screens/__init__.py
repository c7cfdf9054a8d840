"""Screens: the main explorer, the first-run screen, viewers and action dialogs."""
