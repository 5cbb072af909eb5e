"""The monitor's screens and modal dialogs; each composes widgets and reads `tui.state`."""
