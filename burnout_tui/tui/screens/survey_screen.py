"""Surveys by keyboard: pick an instrument, answer every item on one form, store it whole.

Validation and scoring belong to `burnout_tui.surveys`; this module only collects
answers, shows the instrument's own refusal message, and writes the survey in a single
insert, so a refused or cancelled form leaves nothing behind. The insert runs in a thread
worker, through the store (the capture process, which owns the database); the form
closes when it is saved, and stays, answers kept, behind the error dialog when it is not.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Label, OptionList, Static
from textual.widgets.option_list import Option

from burnout_tui.store.surveys import record_survey
from burnout_tui.surveys import Instrument, SurveyAnswerError, SurveyResult, score
from burnout_tui.tui.formatting import BRIEF_NOTICE_S
from burnout_tui.tui.screens.error_modal import StoreFailed, database_errors
from burnout_tui.tui.state.capture_protocol import Capture
from burnout_tui.tui.state.store_access import StoreAccess
from burnout_tui.tui.widgets.choice_row import ChoiceRow

FORM_HELP = (
    "digits or ←/→ choose · Tab/↓ next item · Shift-Tab/↑ previous · "
    "Enter on the last item or ctrl+s submits · Escape cancels (nothing is saved)"
)


PICKER_ORDER = ("cbi", "pss10", "mbi", "checkin")
"""Burnout first, then stress, then score entry and the quick check-in; instruments a user
added come after these, by id."""


def picker_order(instruments: dict[str, Instrument]) -> dict[str, Instrument]:
    rank = {instrument_id: position for position, instrument_id in enumerate(PICKER_ORDER)}
    ordered = sorted(instruments, key=lambda key: (rank.get(key, len(rank)), key))
    return {key: instruments[key] for key in ordered}


class InstrumentPicker(ModalScreen[None]):
    """Which questionnaire to answer; choosing one replaces this dialog with its form."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        instruments: dict[str, Instrument],
        capture: Capture,
        store: StoreAccess,
    ) -> None:
        super().__init__()
        self.capture = capture
        self.store = store
        self.instruments = picker_order(instruments)

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-dialog"):
            yield Label("Which survey?", id="picker-title")
            yield OptionList(
                *(
                    Option(f"{instrument.name} · {len(instrument.items)} items", id=key)
                    for key, instrument in self.instruments.items()
                ),
                id="instrument-list",
                markup=False,
            )
            yield Label("↑/↓ choose · Enter opens · Escape cancels", classes="dialog-hint")

    @on(OptionList.OptionSelected, "#instrument-list")
    def open_form(self, event: OptionList.OptionSelected) -> None:
        key = event.option.id
        assert key is not None, "every option is built with its instrument id"
        self.app.switch_screen(SurveyScreen(self.instruments[key], self.capture, self.store))

    def action_cancel(self) -> None:
        self.dismiss()


class SurveyScreen(Screen[None]):
    """One form per instrument: every item is a ChoiceRow; the answers are stored together."""

    class Saved(Message):
        def __init__(self, result: SurveyResult) -> None:
            super().__init__()
            self.result = result

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Submit", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(
        self,
        instrument: Instrument,
        capture: Capture,
        store: StoreAccess,
    ) -> None:
        super().__init__()
        self.instrument = instrument
        self.capture = capture
        self.store = store
        self.saving = False
        """A save is in flight: a second submit would store the sitting twice."""

    def compose(self) -> ComposeResult:
        yield Header()
        intro = self.instrument.instructions or self.instrument.description
        yield Static(Content.assemble((intro, ""), "\n", (FORM_HELP, "dim")), id="survey-intro")
        with VerticalScroll(id="survey-items"):
            for number, item in enumerate(self.instrument.items, start=1):
                yield ChoiceRow(
                    item.id,
                    number,
                    item.text,
                    item.scale.min,
                    item.scale.max,
                    dict(enumerate(item.scale.labels, start=item.scale.min)),
                    id=f"item-{number}",
                )
        yield Static(id="survey-error")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.instrument.name
        self.query(ChoiceRow).first().focus()

    @property
    def rows(self) -> list[ChoiceRow]:
        return list(self.query(ChoiceRow))

    def answers(self) -> list[int | None]:
        """In item order, None where unanswered; `score` refuses those by item number and id."""
        return [row.value for row in self.rows]

    @on(ChoiceRow.Advanced)
    def advance(self, event: ChoiceRow.Advanced) -> None:
        if event.row is self.rows[-1]:
            self.action_submit()
        else:
            self.focus_next(ChoiceRow)

    def action_submit(self) -> None:
        for row in self.rows:
            row.remove_class("-invalid")
        try:
            result = score(self.instrument, self.answers())
        except SurveyAnswerError as error:
            self.refuse(str(error))
            return
        if self.saving:
            return
        self.saving = True
        self.save(result, self.capture.user_id, self.capture.session_id)

    @work(thread=True, exclusive=True, group="survey-save")
    def save(self, result: SurveyResult, user_id: int, session_id: int | None) -> None:
        try:
            self.store.run(record_survey, user_id, self.instrument, result, session_id=session_id)
        except database_errors() as error:
            self.post_message(StoreFailed(f"{self.instrument.name} not saved", error))
            return
        self.post_message(self.Saved(result))

    @on(StoreFailed)
    def allow_retry(self) -> None:
        self.saving = False

    @on(Saved)
    def close_saved(self, event: Saved) -> None:
        result = event.result
        category = f" ({result.category})" if result.category else ""
        self.app.notify(
            f"{self.instrument.name} saved: burnout {result.burnout_01:.2f} on 0-1{category}",
            markup=False,
        )
        self.dismiss()

    def refuse(self, message: str) -> None:
        """Show why the form was refused and put the cursor on the first unanswered item."""
        self.query_one("#survey-error", Static).update(Content(message))
        for row in self.rows:
            if row.value is None:
                row.add_class("-invalid")
        missing = [row for row in self.rows if row.value is None]
        if missing:
            missing[0].focus()

    def action_cancel(self) -> None:
        self.app.notify("survey cancelled; nothing was saved", timeout=BRIEF_NOTICE_S)
        self.dismiss()
