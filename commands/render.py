"""Output: one JSON document on stdout with ``--json``, otherwise a table or plain lines.

rich is imported only for output that uses it: ``--json`` writes with the standard library, and the
consoles ``stdout`` (results) and ``messages`` (stderr) are made on first use (a module
``__getattr__``, PEP 562), so ``from commands.render import stdout`` costs rich's import then.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    stdout: Console
    messages: Console

JsonOption = "--json"
JSON_HELP = "Print exactly one JSON document on stdout."


def emit_json(document: Any) -> None:
    """Write exactly one JSON document to stdout."""
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")


def emit(document: Mapping[str, Any], as_json: bool, summary: str | None = None) -> None:
    """A single result: JSON, or ``key: value`` lines (with an optional summary line first)."""
    if as_json:
        emit_json(document)
        return
    console = _console("stdout")
    if summary:
        console.print(summary)
    for key, value in document.items():
        console.print(f"  {key}: {_plain(value)}")


def emit_rows(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], as_json: bool, title: str
) -> None:
    """A list result: JSON array, or a table."""
    if as_json:
        emit_json(list(rows))
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        if column.endswith("_id"):
            # An id is what a reader copies into the next command: never cut it short (UUIDv7 ids
            # share their first characters); on a narrow terminal the other columns give way.
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column)
    for row in rows:
        table.add_row(*(_plain(row.get(column)) for column in columns))
    _console("stdout").print(table)


def note(text: str) -> None:
    """A progress or context message, on stderr so stdout stays clean."""
    _console("messages").print(text)


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple, frozenset, set)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _console(name: str) -> Console:
    """``stdout`` or ``messages``, made on first use."""
    console: Console | None = globals().get(name)
    if console is None:
        from rich.console import Console

        console = Console(stderr=name == "messages", highlight=False, soft_wrap=True)
        globals()[name] = console
    return console


def __getattr__(name: str) -> Any:
    """``stdout`` and ``messages``: the consoles, made on first use."""
    if name in ("stdout", "messages"):
        return _console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
