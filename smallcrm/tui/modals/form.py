"""What every form shares: labelled fields, the service's message next to the field it is
about, and typed values that survive any failure to save."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from smallcrm.errors import Conflict, SmallCrmError
from smallcrm.tui.screens.base import CrmModal
from smallcrm.tui.show import local
from smallcrm.values import parse_date, parse_when

R = TypeVar("R")


@dataclass(frozen=True)
class Field:
    """One input of a form."""

    name: str
    label: str
    placeholder: str = ""
    #: (label, value) pairs: the field is a drop-down instead of a text input.
    choices: tuple[tuple[str, str], ...] | None = None
    #: Checks a non-empty value with the service's own parser (its message is shown).
    check: Callable[[str], object] | None = None
    #: Says what a typed value means while typing (e.g. which day `friday 9am` is).
    explain: Callable[[str], str] | None = None
    #: Words in a service error message that point at this field.
    words: tuple[str, ...] = ()
    allow_blank: bool = True


def explain_when(text: str, now: datetime | None = None) -> str:
    return local(parse_when(text, now=now)).strftime("%a %Y-%m-%d %H:%M")


def explain_date(text: str, now: datetime | None = None) -> str:
    return parse_date(text, now=now).strftime("%a %Y-%m-%d")


class FormResult:
    """Per-field problems found before the service was called."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)


class FormModal(CrmModal[R]):
    """A dialog of fields; ctrl+s or enter saves, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="save", priority=True),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]
    TITLE_TEXT: ClassVar[str] = "Form"

    def __init__(self, record: Any = None) -> None:
        super().__init__()
        self.record = record
        self.saving = False

    # -- what a form says ------------------------------------------------------------------

    def fields(self) -> list[Field]:  # pragma: no cover - abstract
        raise NotImplementedError

    def initial(self) -> dict[str, str]:
        return {}

    def save(self, values: dict[str, str]) -> R:  # pragma: no cover - abstract; in a worker
        raise NotImplementedError

    def fetch(self) -> Any:
        """The record as it is now in the database (to reload after a conflict)."""
        return None

    def heading(self) -> Content:
        return Content.styled(self.TITLE_TEXT, "bold")

    def suggestions(self) -> dict[str, list[str]]:
        """Values to complete as you type, per field (loaded in a worker when the form opens)."""
        return {}

    # -- building -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        start = self.initial()
        with Vertical(classes="dialog form"):
            yield Static(self.heading(), classes="form-title")
            with VerticalScroll(classes="form-fields"):
                for field in self.fields():
                    with Horizontal(classes="form-row"):
                        yield Label(field.label, classes="form-label")
                        yield self._control(field, start.get(field.name, ""))
                    yield Static("", id=f"error-{field.name}", classes="field-error")
            yield Static("", id="form-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def _control(self, field: Field, value: str) -> Widget:
        if field.choices is not None:
            options = [(Content(label), key) for label, key in field.choices]
            known = {key for _, key in field.choices}
            return Select(
                options,
                id=f"field-{field.name}",
                value=value if value in known else Select.NULL,
                allow_blank=field.allow_blank,
                prompt=field.placeholder or "choose",
                compact=True,
            )
        return Input(value, placeholder=field.placeholder, id=f"field-{field.name}", compact=True)

    def on_mount(self) -> None:
        first = self.query(".form-row Input, .form-row Select").first()
        first.focus()
        for field in self.fields():
            if field.explain:
                self._explain(field, self.values().get(field.name, ""))
        if type(self).suggestions is not FormModal.suggestions:
            self.run_db(self.suggestions, self._set_suggestions, group="suggest")

    def _set_suggestions(self, lists: dict[str, list[str]]) -> None:
        for name, words in lists.items():
            for control in self.query(f"#field-{name}"):
                if isinstance(control, Input):
                    control.suggester = SuggestFromList(words, case_sensitive=False)

    # -- values and errors --------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for field in self.fields():
            control = self.query_one(f"#field-{field.name}")
            if isinstance(control, Select):
                values[field.name] = "" if control.value is Select.NULL else str(control.value)
            elif isinstance(control, Input):
                values[field.name] = control.value
        return values

    def changed(self, values: dict[str, str]) -> dict[str, str]:
        """The values that differ from what the form started with."""
        start = self.initial()
        return {k: v for k, v in values.items() if v.strip() != start.get(k, "").strip()}

    def set_values(self, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            for control in self.query(f"#field-{name}"):
                if isinstance(control, Input):
                    control.value = value
                elif isinstance(control, Select):
                    control.value = value if value else Select.NULL

    def show_errors(self, errors: Mapping[str, str], general: str = "") -> None:
        names = {field.name for field in self.fields()}
        for field in self.fields():
            line = self.query_one(f"#error-{field.name}", Static)
            message = errors.get(field.name, "")
            line.update(Content(message))
            line.set_class(bool(message), "error", "shown")
        form_error = self.query_one("#form-error", Static)
        others = [m for k, m in errors.items() if k not in names]
        text = " ".join(filter(None, [general, *others]))
        form_error.update(Content(text))
        form_error.set_class(bool(text), "error", "shown")
        for name in errors:
            if name in names:
                self.query_one(f"#field-{name}").focus()
                break

    def field_for(self, message: str) -> str | None:
        lowered = message.lower()
        for field in self.fields():
            if any(word in lowered for word in field.words):
                return field.name
        return None

    def _explain(self, field: Field, value: str) -> None:
        line = self.query_one(f"#error-{field.name}", Static)
        if line.has_class("error"):
            return
        if not value.strip() or field.explain is None:
            line.update("")
            line.remove_class("shown")
            return
        try:
            text = "→ " + field.explain(value)
        except SmallCrmError as error:
            text = str(error)
        line.update(Content.styled(text, "$text-muted"))
        line.add_class("shown")

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("field-")
        line = self.query(f"#error-{name}")
        if line:
            line.first(Static).remove_class("error")
        for field in self.fields():
            if field.name == name and field.explain:
                self._explain(field, event.value)

    # -- saving -------------------------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        if self.saving:
            return
        values = self.values()
        fields = self.fields()
        self.saving = True

        def job() -> R | FormResult:
            errors: dict[str, str] = {}
            for field in fields:
                value = values.get(field.name, "")
                if field.check is not None and value.strip():
                    try:
                        field.check(value)
                    except SmallCrmError as error:
                        errors[field.name] = str(error)
            if errors:
                return FormResult(errors)
            return self.save(values)

        self.run_db(job, self._done, group="save", failed=self._failed)

    def _done(self, result: R | FormResult) -> None:
        self.saving = False
        if isinstance(result, FormResult):
            self.show_errors(result.errors)
            return
        self.dismiss(result)

    def _failed(self, error: SmallCrmError) -> None:
        self.saving = False
        message = str(error)
        field = self.field_for(message)
        if field:
            self.show_errors({field: message})
        else:
            self.show_errors({}, message)
        self.app.notify(message, title="Not saved", severity="error", markup=False)
        if isinstance(error, Conflict):
            self._offer_reload()

    def _offer_reload(self) -> None:
        from smallcrm.tui.modals.confirm import ConfirmModal

        def answer(yes: bool | None) -> None:
            if yes:
                self.run_db(self.fetch, self._reloaded, group="save")

        question = (
            "Someone else changed this record since you opened it.\n"
            "Reload it? What you typed here is replaced by the saved values."
        )
        self.app.push_screen(ConfirmModal(question, yes="Reload", no="Keep mine"), answer)

    def _reloaded(self, record: Any) -> None:
        if record is None:
            return
        self.record = record
        self.set_values(self.initial())
        self.show_errors({})
        self.notify("Reloaded the saved values.", markup=False)


def split_tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.split(",") if tag.strip()]
