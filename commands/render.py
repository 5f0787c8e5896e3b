"""Output: one JSON document on stdout with ``--json``, otherwise a table or plain lines."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

stdout = Console(highlight=False, soft_wrap=True)
messages = Console(stderr=True, highlight=False, soft_wrap=True)

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
    if summary:
        stdout.print(summary)
    for key, value in document.items():
        stdout.print(f"  {key}: {_plain(value)}")


def emit_rows(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], as_json: bool, title: str
) -> None:
    """A list result: JSON array, or a table."""
    if as_json:
        emit_json(list(rows))
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_plain(row.get(column)) for column in columns))
    stdout.print(table)


def note(text: str) -> None:
    """A progress or context message, on stderr so stdout stays clean."""
    messages.print(text)


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple, frozenset, set)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)
