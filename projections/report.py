"""Rendering a reconstruction for people: Markdown for a terminal, one self-contained HTML file.

The two views are printed side by side and never merged. Templates live in
``projections/templates``; HTML is autoescaped, and neither format carries personal data.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment

    from projections.reconstruction import Reconstruction


@cache
def _environment() -> Environment:
    """The templates' environment, made on the first render (jinja2 is slow to import)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape  # noqa: PLC0415

    return Environment(
        loader=PackageLoader("projections", "templates"),
        autoescape=select_autoescape(["html", "html.j2"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


CLASS_MEANING = {
    "CONSISTENT": "the verdict is the same as known then and as known now",
    "RETROACTIVELY_INVALIDATED": "justified as known then, but facts learned later show it was not",
    "RETROACTIVELY_VALIDATED": "not justified as known then, but facts learned later show it was",
    "UNJUSTIFIED_AS_KNOWN_THEN": "on the watchlist although, as known then, it was not justified",
}


class Format(StrEnum):
    """Output formats of ``deployment reconstruct``."""

    JSON = "json"
    MD = "md"
    HTML = "html"


def render(reconstruction: Reconstruction, kind: Format) -> str:
    """The report as Markdown or HTML text."""
    document: dict[str, Any] = reconstruction.to_json()
    template = _environment().get_template(f"reconstruction.{kind.value}.j2")
    return template.render(doc=document, meaning=CLASS_MEANING)
