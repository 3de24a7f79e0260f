"""The full-screen interface (Textual). Only `smallcrm.cli.tui` imports it, inside a function."""
