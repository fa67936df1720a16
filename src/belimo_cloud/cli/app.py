"""The `belimo` command: the typer app, its global options, and where errors become exits."""

from __future__ import annotations

import errno
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from typer.core import TyperGroup, TyperOption

from belimo_cloud.cli import (
    account,
    audit,
    baseline_cmd,
    demo,
    devices,
    emulator_cmd,
    energy_cmd,
    history,
    live_cmd,
    plot_cmd,
    report_cmd,
    serve_cmd,
    store_cmd,
    weather_cmd,
    write_cmd,
)
from belimo_cloud.cli.exit_codes import CommandError, ExitStatus, exit_status, hint
from belimo_cloud.cli.options import State, configure_logging
from belimo_cloud.cli.render import OutputFormat, detail, error, say
from belimo_cloud.errors import APIError, AuthError, BelimoError
from belimo_cloud.grammar import shown

__all__ = ["app", "main"]


class BelimoGroup(TyperGroup):
    """Runs the app and turns every outcome into one exit status (exit_codes.py) and one line."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        state = extra.pop("obj", None)
        if not isinstance(state, State):
            state = State()
        try:
            _check_arguments(sys.argv[1:] if args is None else list(args))
            result = super().main(
                args=args,
                prog_name=prog_name or "belimo",
                complete_var=complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                obj=state,
                **extra,
            )
            code = int(result) if isinstance(result, int) else ExitStatus.OK
            if code == ExitStatus.INTERRUPTED:
                error("interrupted; run the command again to continue")
        except typer.TyperException as exc:
            # Typer's (vendored click's) usage errors: bad option, bad value, missing argument.
            if type(exc).__name__ == "NoArgsIsHelpError":
                code = ExitStatus.OK  # the help was already shown
            else:
                code = ExitStatus.USAGE
                error(_usage_message(exc))
        except (typer.Abort, KeyboardInterrupt):
            code = ExitStatus.INTERRUPTED
            error("interrupted; run the command again to continue")
        except BelimoError as exc:
            code = exit_status(exc)
            error(_one_line(exc))
            if state.verbose:
                _details(exc, state.verbose)
        except BrokenPipeError:
            code = ExitStatus.OK
        except OSError as exc:
            code = ExitStatus.USAGE
            error(_os_message(exc))
        except httpx.InvalidURL as exc:
            # A value that cannot go into a request URL (too long, control characters).
            code = ExitStatus.USAGE
            error(f"cannot send this input to the API ({exc}); check the ids and search text")
        except (RecursionError, MemoryError):
            code = ExitStatus.USAGE
            error("the input is too large or too deeply nested to process; narrow it down")
        except Exception as exc:
            code = ExitStatus.USAGE
            error(
                f"unexpected {type(exc).__name__}: {exc}; this is a bug, please report it "
                "(-vv shows the traceback)"
            )
            if state.verbose > 1:
                detail("".join(traceback.format_exception(exc)))
        if standalone_mode:
            raise SystemExit(int(code))
        return int(code)


# No option value needs more: PATH_MAX is 4096 on Linux, and ids and searches are far shorter.
MAX_ARGUMENT = 4096


def _check_arguments(args: Sequence[str]) -> None:
    """Refuse, before any parsing, arguments no command can use: not UTF-8, NUL, too long."""
    for position, arg in enumerate(args, start=1):
        text = str(arg)
        if len(text) > MAX_ARGUMENT:
            raise CommandError(
                f"argument {position} is {len(text):,} characters long; "
                f"the most is {MAX_ARGUMENT:,}"
            )
        if "\x00" in text:
            raise CommandError(f"argument {position} holds a NUL character")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # Bytes that are not UTF-8 reach Python as lone surrogates (PEP 383).
            raise CommandError(
                f"argument {position} ({shown(text)}) is not valid UTF-8; "
                "give text (and file names) in UTF-8"
            ) from None


def _os_message(exc: OSError) -> str:
    """One line for an OSError: a busy port, or a file the user named (-o, --store, --out)."""
    if exc.errno == errno.EADDRINUSE:
        return (
            "the port is already in use (another `belimo emulator serve`?); "
            "stop that process or choose another port with --port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return "cannot listen on that address; use --host 127.0.0.1 or an address of this machine"
    where = f" {exc.filename}" if exc.filename else ""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot use{where}: {reason}; check the path and its permissions"


def _usage_message(exc: typer.TyperException) -> str:
    message = exc.format_message().rstrip(".")
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", None)
    return f"{message}; see '{path} --help'" if path else message


# A message that already tells the user what to do needs no second piece of advice.
_ADVICE = re.compile(r"\b(check|run|use|set|try|give|pass|add|wait|lower)\b", re.IGNORECASE)


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
    message = re.sub(r"\.\s*;", ";", message)
    advice = hint(exc)
    if not advice or _ADVICE.search(message.split(";", 1)[-1] if ";" in message else ""):
        return message
    return f"{message}; {advice}"


def _details(exc: BaseException, verbose: int) -> None:
    detail(f"  {type(exc).__module__}.{type(exc).__name__}")
    if isinstance(exc, APIError):
        detail(f"  {exc.method} {exc.url} -> {exc.status_code}")
        if exc.body:
            detail(f"  server said: {exc.body_preview}")
    if isinstance(exc, AuthError) and (exc.error or exc.description):
        detail(f"  identity server: {exc.error}: {exc.description}")
    cause = exc.__cause__ or exc.__context__
    while cause is not None:
        detail(f"  caused by {type(cause).__name__}: {' '.join(str(cause).split())}")
        cause = cause.__cause__ or cause.__context__
    if verbose > 1:
        detail("".join(traceback.format_exception(exc)))


def _display_type(self: TyperOption, ctx: Any) -> str | None:
    """The type column of --help: nothing for flags and counters (no `-h <bool>`)."""
    if self.is_flag or self.count:
        return None
    shown = _typer_display_type(self, ctx)
    # `--device <list[str]>` reads better as `--device <str>` (the help says "repeatable").
    return re.sub(r"^<list\[(.*)\]>(\.\.\.)?$", r"<\1>", shown) if shown else shown


# Typer 0.2x prints a type for every option, flags included; one class-wide override keeps
# every command's help (ours and the other families') free of `<bool>` and `<list[str]>`.
_typer_display_type = TyperOption.display_type_rich
TyperOption.display_type_rich = _display_type  # type: ignore[method-assign]


app = typer.Typer(
    cls=BelimoGroup,
    name="belimo",
    help=(
        "Unofficial toolkit for the Belimo Cloud API v3: devices, history, a local store, "
        "energy analytics, and an embedded demo cloud. Try `belimo demo`."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            say(f"belimo-cloud {version('belimo-cloud')}")
        except PackageNotFoundError:
            say("belimo-cloud (version unknown: not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            help="Settings profile from the config file ('demo': the local emulator). "
            "Default: $BELIMO_PROFILE or 'default'.",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="More detail on errors, DEBUG logging (-vv more)."
        ),
    ] = 0,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="Default output format of every command."
        ),
    ] = OutputFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Default output file of every command.")
    ] = None,
    _show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Unofficial toolkit for the Belimo Cloud API v3."""
    state = ctx.ensure_object(State)
    state.profile = profile
    state.verbose = verbose
    state.fmt = fmt
    state.output = output
    configure_logging(verbose)


account.register(app)
devices.register(app)
history.register(app)
store_cmd.register(app)
energy_cmd.register(app)
plot_cmd.register(app)
report_cmd.register(app)
baseline_cmd.register(app)
live_cmd.register(app)
write_cmd.register(app)
audit.register(app)
serve_cmd.register(app)
demo.register(app)
emulator_cmd.register(app)
# `belimo emulator weather` belongs to the emulator group, which does not add it itself yet;
# the guard keeps one registration once it does.
if "weather" not in {c.name for c in emulator_cmd.emulator_app.registered_commands}:
    emulator_cmd.emulator_app.command("weather")(weather_cmd.weather)


def main() -> None:
    """Console-script entry point (`belimo`)."""
    app()
