"""The single-user monitor for one person picked on the people grid.

It is the monitor screen itself, fed through a `TrackCapture`, so one person looks the
same whether they were watched alone or picked out of a group; Escape goes back.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType

from burnout_tui.tui.screens.monitor_screen import MonitorScreen


class PersonScreen(MonitorScreen):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "People")]

    def action_back(self) -> None:
        self.dismiss()
