"""How a failed command reaches its user: one ``error:`` line on stderr, exit status 1, in
the words of the command line.

The library and the collector word their messages for Python callers (``max_results``,
``order_by[0]``, ``scorers[0]``) and name both the API call and the command that does the
same (``SearchEvaluationRuns (`spyglass eval list`)``). :func:`in_flag_terms` rewrites such a
message for a terminal: argument names become the flags that set them, and only the command
is kept. :class:`CommandGroup` applies it to every error a subcommand raises, so no
traceback reaches a user whichever way the command is run (the console script or click's
test runner).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import IO, Any

import click

from spyglass.errors import SpyglassError

# Python argument names of the API → the flag that sets them on the command line
_ARGUMENT_FLAGS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"\border_by\[(\d+)\]"), lambda m: f"--order-by #{int(m.group(1)) + 1}"),
    (re.compile(r"\bscorers\[(\d+)\]"), lambda m: f"--scorer #{int(m.group(1)) + 1}"),
    (re.compile(r"\bmax_results\b"), lambda m: "--limit"),
    (re.compile(r"\bfilter_string\b"), lambda m: "--filter"),
    (re.compile(r"\border_by\b"), lambda m: "--order-by"),
    (re.compile(r"\b(dataset|experiment)=\.\.\."), lambda m: f"--{m.group(1)}"),
)
# "SearchEvaluationRuns (`spyglass eval list`)" or "search_datasets() (`spyglass datasets
# list`)": the API's name for what the command in backquotes does
_API_AND_COMMAND = re.compile(
    r"\b(?:[A-Z][a-z]+(?:[A-Z][a-z]+)+|[a-z_]+\(\)) \((`spyglass [^`]+`)\)"
)


def in_flag_terms(message: str) -> str:
    """``message`` with API argument and call names replaced by the CLI's flags and
    commands."""
    message = _API_AND_COMMAND.sub(r"\1", message)
    for pattern, flag in _ARGUMENT_FLAGS:
        message = pattern.sub(flag, message)
    return message


class CommandError(click.ClickException):
    """A command's failure, shown as one ``error:`` line (exit status 1)."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=file is None, file=file)


def file_problem(exc: OSError, what: str) -> str:
    """An ``OSError`` on a user's file as one sentence: ``what`` (e.g. "cannot write
    out.jsonl") and the system's reason."""
    reason = exc.strerror or str(exc)
    return f"{what}: {reason[0].lower() + reason[1:] if reason else 'failed'}"


class CommandGroup(click.Group):
    """A group whose subcommands' typed errors (and file errors) become :class:`CommandError`
    in flag terms."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpyglassError as exc:
            raise CommandError(in_flag_terms(str(exc))) from None
        except OSError as exc:  # a file the command reads or writes
            name = f" {exc.filename}" if exc.filename else ""
            raise CommandError(file_problem(exc, f"cannot use{name}")) from None
