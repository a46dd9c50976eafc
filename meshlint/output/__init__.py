"""Report formats: one module per format, each with ``render(report, options) -> str``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module

from meshlint.engine import Report
from meshlint.model import Rule

FORMATS = ("text", "json")


@dataclass(frozen=True)
class Options:
    rules: Mapping[str, Rule] = field(default_factory=dict)
    color: bool = False
    quiet: bool = False
    statistics: bool = False


Renderer = Callable[[Report, Options], str]


def renderer(name: str) -> Renderer:
    """The render function of a format, imported only when that format is asked for."""
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; expected one of {', '.join(FORMATS)}")
    module = import_module(f"meshlint.output.{name}_format")
    render: Renderer = module.render
    return render
