"""What every screen shares: database work in thread workers, refresh on resume and on a timer,
and `escape` that first leaves a text field and then backs out of the screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.actions import parse
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, get_current_worker

from smallcrm.errors import SmallCrmError

if TYPE_CHECKING:
    from smallcrm.tui.app import SmallCrmApp

T = TypeVar("T")


class DbWork:
    """Run service calls off the UI thread; results and errors come back on it."""

    app: SmallCrmApp
    run_worker: Callable[..., Worker[Any]]

    def run_db(
        self,
        job: Callable[[], T],
        done: Callable[[T], object] | None = None,
        *,
        group: str = "load",
        exclusive: bool = True,
        failed: Callable[[SmallCrmError], object] | None = None,
    ) -> Worker[None]:
        """Call `job()` in a thread worker, then `done(result)` (or `failed(error)`) on the UI.

        An exclusive worker supersedes the earlier ones of its group: their results are dropped,
        so a slow search never overwrites the results of a later keystroke.
        """
        app = self.app

        def work() -> None:
            worker = get_current_worker()
            try:
                outcome: tuple[Callable[[Any], object], Any] | None = None
                result = job()
                if done is not None:
                    outcome = (done, result)
            except SmallCrmError as error:
                outcome = (failed or app.report_error, error)
            except Exception as error:  # a bug must not take the user's screen down
                outcome = (app.report_bug, error)
            if outcome is None or worker.is_cancelled:
                return
            try:
                app.call_from_thread(outcome[0], outcome[1])
            except RuntimeError:  # the app closed meanwhile
                pass

        return self.run_worker(
            work, thread=True, group=group, exclusive=exclusive, exit_on_error=False
        )


class CrmScreen(DbWork, Screen[None]):
    """A full screen over the database. Subclasses implement `reload`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Help comes first in every footer, so it shows even at 80 columns.
        Binding("question_mark", "app.help", "Help", key_display="?", id="help"),
        Binding("escape", "back", "Back", id="back", show=False),
        Binding("r", "reload", "Reload", id="reload", show=False),
    ]

    #: A short name for the help screen and the command palette.
    TITLE_TEXT: ClassVar[str] = ""

    _key_state: list[bool | None] | None = None

    def on_mount(self) -> None:
        seconds = self.app.refresh_seconds
        if seconds:
            self.set_interval(seconds, self._tick, name="refresh")

    def on_screen_resume(self) -> None:
        self.reload()

    def _tick(self) -> None:
        if self.app.screen is self and not self._busy():
            self.reload(quiet=True)

    def _busy(self) -> bool:
        return any(not w.is_finished for w in self.workers)

    def reload(self, *, quiet: bool = False) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def action_reload(self) -> None:
        self.reload()

    def update_keys(self) -> None:
        """Refresh the footer only when a key became usable or unusable (it redraws slowly)."""
        state = []
        for _, binding in self._bindings:
            _, name, params = parse(binding.action)
            state.append(self.check_action(name, params))
        if state != self._key_state:
            self._key_state = state
            self.refresh_bindings()

    def main_widget(self) -> Widget | None:
        """The widget that gets focus when a text field is left."""
        return None

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            target = self.main_widget()
            if target is not None and target.focusable:
                target.focus()
            else:
                self.set_focus(None)
            return
        if len(self.app.screen_stack) > 1:
            self.dismiss()
        elif self.app.current_mode != "board":
            self.app.action_show_mode("board")


class CrmModal(DbWork, ModalScreen[T]):
    """A dialog over the current screen; `escape` cancels it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)
