"""What the screens draw from, as plain Python: live series, history queries, the capture
protocol and the monitor's request. Nothing here composes a widget, so it is tested
without a terminal."""
