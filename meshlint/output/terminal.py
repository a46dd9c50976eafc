"""What a terminal needs: whether to colour, how wide a line may be, and
findings shown file by file while a long run goes on.

Colour follows, first match wins: ``--color always|never``, ``--no-color``,
``NO_COLOR`` (https://no-color.org), ``FORCE_COLOR`` (https://force-color.org),
then whether the report goes to a terminal. Both variables count when set to
anything but the empty string, whatever the value, as both conventions say.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import TextIO

__all__ = ["PIPE_WIDTH", "cut", "use_color", "width"]

# Echoed lines in a file or pipe are cut here: a minified JSON line or a deep
# document can be megabytes long, and nobody reads past this.
PIPE_WIDTH = 200
ELLIPSIS = "…"


def use_color(
    choice: str | None, no_color: bool, to_terminal: bool, env: Mapping[str, str] = os.environ
) -> bool:
    if choice in ("always", "never"):
        return choice == "always"
    if no_color or env.get("NO_COLOR", ""):
        return False
    return bool(env.get("FORCE_COLOR", "")) or to_terminal


def width(stream: TextIO | None, to_terminal: bool, env: Mapping[str, str] = os.environ) -> int:
    """The columns an echoed line may take: the terminal's, else ``COLUMNS``, else
    ``PIPE_WIDTH``."""
    columns = env.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if to_terminal and stream is not None:
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError):
            return shutil.get_terminal_size().columns
    return PIPE_WIDTH


def cut(text: str, column: int, room: int) -> tuple[str, int]:
    """``text`` cut to ``room`` characters around the 1-based ``column``, each cut
    end marked with an ellipsis; and the caret's column in what is left."""
    if len(text) <= room or room < 8:
        return text, column
    caret = max(column - 1, 0)
    start = max(0, min(caret - room // 3, len(text) - room))
    end = start + room
    piece = text[start:end]
    if start > 0:
        piece = ELLIPSIS + piece[1:]
    if end < len(text):
        piece = piece[:-1] + ELLIPSIS
    return piece, caret - start + 1
