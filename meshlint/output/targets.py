"""Where each report goes: ``--format`` and ``--output`` paired in command-line order.

An ``--output`` belongs to the ``--format`` just before it (or, written first,
to the next one), so ``--format github --format sarif --output x.sarif`` sends
SARIF to the file and the annotations to stdout. click gathers repeated options
into separate tuples and loses their interleaving, so the raw arguments are
scanned once before click parses them.
"""

from __future__ import annotations

from collections.abc import Sequence

Target = tuple[str, "str | None"]  # (format, file or None for stdout)

FORMAT, OUTPUT = "--format", "--output"
# Short options of `check` that take a value, so "-jo" style clusters scan right.
_SHORT_VALUE = {"o": OUTPUT, "j": "--jobs"}
_LONG_VALUE = frozenset(
    {
        FORMAT, OUTPUT, "--select", "--extend-select", "--ignore", "--fail-on", "--config",
        "--exclude", "--kube-version", "--jobs", "--baseline", "--write-baseline",
    }
)  # fmt: skip


class TargetError(ValueError):
    """Formats and outputs that cannot be paired unambiguously."""


def scan(args: Sequence[str]) -> list[tuple[str, str]]:
    """The ``--format``/``--output`` occurrences in ``args``, in order."""
    found: list[tuple[str, str]] = []
    items = list(args)
    i = 0
    while i < len(items):
        token = items[i]
        i += 1
        if token == "--":
            break
        if token.startswith("--"):
            name, eq, value = token.partition("=")
            if name not in _LONG_VALUE:
                continue
            if not eq:
                if i >= len(items):
                    break
                value = items[i]
                i += 1
            if name in (FORMAT, OUTPUT):
                found.append((name, value))
        elif token.startswith("-") and len(token) > 1:
            for position, char in enumerate(token[1:], 1):
                if char not in _SHORT_VALUE:
                    continue
                value = token[position + 1 :]
                if not value and i < len(items):
                    value = items[i]
                    i += 1
                if _SHORT_VALUE[char] == OUTPUT:
                    found.append((OUTPUT, value))
                break
    return found


def pair(occurrences: Sequence[tuple[str, str]], default: str) -> list[Target]:
    """Reports to write: each format with its file, or None for stdout.

    ``default`` is the format used when no ``--format`` is given at all.
    """
    targets: list[list[str | None]] = []
    waiting: list[str] = []  # outputs written before their format
    for option, value in occurrences:
        if option == FORMAT:
            targets.append([value, waiting.pop(0) if waiting else None])
        elif targets and targets[-1][1] is None:
            targets[-1][1] = value
        else:
            waiting.append(value)
    if not targets:
        targets = [[default, output] for output in waiting] or [[default, None]]
    elif waiting:
        raise TargetError(f"--output {waiting[0]} has no --format of its own")
    pairs: list[Target] = [(str(name), output) for name, output in targets]
    if sum(output is None for _, output in pairs) > 1:
        raise TargetError(
            "only one report can go to stdout: give every --format but one an --output"
        )
    files = [output for _, output in pairs if output is not None]
    if len(set(files)) != len(files):
        raise TargetError("two reports would be written to the same --output file")
    return pairs
