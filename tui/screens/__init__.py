"""The TUI's screens: Start, Walk, Help and the dialogs here; Packets and Tables beside them."""
