"""The `smallcrm` command: a root Typer app whose command groups load only when they run.

`smallcrm --help`, `--version` and completion of top-level names read a static table of
commands below, so they import no command module (and neither the database stack nor Textual).
`run()` is the console script: it maps the project's errors to `error: ...` and exit 1, once.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from smallcrm import __version__
from smallcrm.errors import SmallCrmError

try:  # Typer vendors click as typer._click since 0.22; older releases use click itself
    from typer._click import Command as _Command
    from typer._click.exceptions import ClickException as _ClickException
    from typer._click.shell_completion import CompletionItem
except ImportError:  # pragma: no cover
    from click import Command as _Command
    from click.exceptions import ClickException as _ClickException
    from click.shell_completion import CompletionItem

# Python collects cycles after every 700 new objects; a command (importing the database stack
# above all) makes hundreds of thousands and frees few, so most of those collections are waste.
_GC_FIRST_THRESHOLD = 100_000

#: name -> (module, short help). The root help and completion read this table, never the modules;
#: tests check that each entry matches its module's own help.
COMMANDS: dict[str, tuple[str, str]] = {
    "contact": ("smallcrm.cli.contact", "People: add, list, show, edit, delete, merge, forget."),
    "company": ("smallcrm.cli.company", "Accounts: add, list, show, edit, delete."),
    "lead": ("smallcrm.cli.lead", "Opportunities: add, list, show, move, won, lost."),
    "log": ("smallcrm.cli.log", "Log a call, email, meeting or note with a contact or company."),
    "activity": ("smallcrm.cli.activity", "List logged calls, emails, meetings and notes."),
    "followup": (
        "smallcrm.cli.followup",
        "Things to do by a due time: add, list, done, snooze, cancel.",
    ),
    "timeline": ("smallcrm.cli.timeline", "A contact's or company's history, newest first."),
    "today": (
        "smallcrm.cli.today",
        "Morning briefing: overdue and due follow-ups, stale leads, closes this week.",
    ),
    "search": ("smallcrm.cli.search", "Search contacts, companies, leads and activity text."),
    "import": ("smallcrm.cli.importer", "Import records from a CSV file."),
    "export": ("smallcrm.cli.exporter", "Export records as CSV, JSON, vCard or iCalendar."),
    "remind": ("smallcrm.cli.remind", "Deliver due follow-up reminders (for cron)."),
    "report": ("smallcrm.cli.report", "Pipeline, forecast, activity and win-rate reports."),
    "user": ("smallcrm.cli.user", "The team: add and list users."),
    "db": ("smallcrm.cli.db", "The database: path, migrate, check, backup, restore, copy."),
    "tui": ("smallcrm.cli.tui", "Open the full-screen interface."),
    "demo": ("smallcrm.cli.demo", "Build a sample team CRM and open the TUI on it."),
    "undo": ("smallcrm.cli.undo", "Undo my last change (an edit, a move, a delete, an import)."),
    "history": ("smallcrm.cli.history", "List recorded changes: who changed what, and when."),
}

#: Commands whose modules other work streams add; listed only once their module exists.
OPTIONAL = frozenset({"import", "export", "remind", "report"})


def _available(name: str) -> bool:
    if name not in COMMANDS:
        return False
    if name not in OPTIONAL:
        return True
    try:
        return importlib.util.find_spec(COMMANDS[name][0]) is not None
    except (ImportError, ValueError):
        return False


def load_command(name: str) -> _Command:
    """Import a command module and build its click command (a one-command app is that command).

    A group's own commands are built only when asked for too: `contact list` builds `list`,
    not all six (building a command's parameters is most of Typer's start-up cost).
    """
    module = importlib.import_module(COMMANDS[name][0])
    sub_app: typer.Typer = module.app
    sub_app._add_completion = False  # completion options belong to the root only
    infos = list(sub_app.registered_commands)
    if len(infos) > 1 and not sub_app.registered_groups:
        sub_app.info.cls = LazySubGroup
        sub_app.registered_commands = []
        try:
            command = typer.main.get_group(sub_app)
        finally:
            sub_app.registered_commands = infos
        assert isinstance(command, LazySubGroup)
        command.set_infos(infos, sub_app.pretty_exceptions_short)
    else:
        command = typer.main.get_command(sub_app)
    command.name = name
    return command


class _SuggestingGroup(TyperGroup):
    """A group that suggests close names for a mistyped command, from list_commands."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return self._click_resolve_command(ctx, args)
        except _ClickException as error:
            from difflib import get_close_matches

            if args and getattr(error, "message", None):
                matches = get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    suggestions = ", ".join(repr(m) for m in matches)
                    error.message = f"{error.message.rstrip('.')}. Did you mean {suggestions}?"
            raise


class LazySubGroup(_SuggestingGroup):
    """A command group (`contact`) whose commands are built on first use."""

    def set_infos(self, infos: list[Any], pretty_exceptions_short: bool) -> None:
        self._infos = {info.name or info.callback.__name__: info for info in infos}
        self._short = pretty_exceptions_short

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self._infos)

    def get_command(self, ctx: Any, cmd_name: str) -> _Command | None:
        if cmd_name not in self.commands and cmd_name in self._infos:
            self.commands[cmd_name] = typer.main.get_command_from_info(
                self._infos[cmd_name],
                pretty_exceptions_short=self._short,
                rich_markup_mode=self.rich_markup_mode,
            )
        return self.commands.get(cmd_name)


class LazyGroup(_SuggestingGroup):
    """A Typer group that imports a command module only when that command runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False
        self._loaded: dict[str, _Command] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: Any, cmd_name: str) -> _Command | None:
        if not _available(cmd_name):
            return None
        if self._listing:  # help: a stand-in carrying the short help, nothing imported
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name][1])
        if cmd_name not in self._loaded:
            self._loaded[cmd_name] = load_command(cmd_name)
        return self._loaded[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            return super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        results = [
            CompletionItem(name, help=COMMANDS[name][1])
            for name in self.list_commands(ctx)
            if name.startswith(incomplete)
        ]
        results.extend(_Command.shell_complete(self, ctx, incomplete))
        return results

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run; usage errors become one `error:` line on stderr and exit 2."""
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _ClickException as error:
            if not standalone_mode:
                raise
            _usage_failure(error)
        except typer.Abort:
            if not standalone_mode:
                raise
            sys.stderr.write("error: aborted\n")
            sys.exit(1)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _hoist_db(args))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except SmallCrmError as error:
            fail(str(error), error.exit_code)
        except BrokenPipeError:
            _quiet_pipe()
            raise typer.Exit(0) from None
        except (typer.Exit, typer.Abort, _ClickException, KeyboardInterrupt, EOFError):
            raise
        except OSError as error:
            where = f": {error.filename}" if error.filename else ""
            fail(f"{error.strerror or error}{where}")
        except Exception as error:
            if os.environ.get("SMALLCRM_DEBUG"):
                raise
            fail(f"unexpected {type(error).__name__}: {error} (set SMALLCRM_DEBUG=1 to see where)")


def _hoist_db(args: list[str]) -> list[str]:
    """Accept the global `--db` after the command name too (`smallcrm contact list --db x`)."""
    if not args or args[0] == "--db" or args[0].startswith("--db="):
        return args
    result: list[str] = []
    hoisted: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            result.extend(args[index:])
            break
        if arg == "--db" and index + 1 < len(args):
            hoisted += [arg, args[index + 1]]
            index += 2
            continue
        if arg.startswith("--db="):
            hoisted.append(arg)
        else:
            result.append(arg)
        index += 1
    return hoisted + result if hoisted else args


def _usage_failure(error: Any) -> None:
    """Show a parser error as one line, `error: ... (see 'smallcrm x --help')`, and exit."""
    ctx = getattr(error, "ctx", None)
    if type(error).__name__ == "NoArgsIsHelpError" and ctx is not None:
        sys.stdout.write(ctx.get_help() + "\n")  # `smallcrm contact`: its help, as gh does
        sys.exit(0)
    message = " ".join(str(error.format_message()).split())
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None and error.exit_code == 2 else ""
    from smallcrm.textsafe import visible

    sys.stderr.write(f"error: {visible(message)}{hint}\n")
    sys.exit(error.exit_code)


def fail(message: str, code: int = 1) -> None:
    """Print `error: message` (one line, control characters made visible) and exit."""
    from smallcrm.textsafe import visible

    sys.stderr.write(f"error: {visible(message)}\n")
    raise typer.Exit(code)


def _quiet_pipe() -> None:
    """The reader went away (`| head`): send what is left to /dev/null and stop quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"smallcrm {__version__}\n")
        raise typer.Exit()


app = typer.Typer(
    cls=LazyGroup,
    name="smallcrm",
    help="A terminal CRM for small sales teams: contacts, companies, leads, follow-ups.",
    epilog="Run `smallcrm COMMAND --help` for a command's options. "
    "Data: --db, SMALLCRM_DB, or crm.db in your data directory.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH_OR_URL",
            help="Database file or URL (default: SMALLCRM_DB, the config, or crm.db).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_version,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """A terminal CRM for small sales teams: contacts, companies, leads, follow-ups."""
    from smallcrm.cli import context

    context.set_db_option(db)
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        if sys.stdin.isatty() and sys.stdout.isatty():
            from smallcrm.cli.tui import open_tui

            open_tui()
            return
        sys.stdout.write(ctx.get_help() + "\n")
        raise typer.Exit(0)


def run() -> None:
    """The console script: private files, quiet pipes, the project's errors as exit codes."""
    os.umask(0o077)
    for stream in (sys.stdout, sys.stderr):
        try:  # lone surrogates or odd locales must not turn output into a traceback
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    code = 0
    try:
        app(prog_name="smallcrm")
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, int | None):
            sys.stderr.write(f"{exit_.code}\n")
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        _quiet_pipe()
        code = 0
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_pipe()
    except (OSError, ValueError):
        pass
    sys.exit(code)


def console() -> None:
    """The `smallcrm` executable: `run()`, then leave without tearing the interpreter down.

    Freeing every module and object one by one at exit costs a short command about a tenth of
    its run time, for nothing: the output is flushed and the database closed first.
    """
    gc.set_threshold(_GC_FIRST_THRESHOLD)
    code = 0
    try:
        run()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0
    finally:
        from smallcrm.cli import context

        context.reset()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
