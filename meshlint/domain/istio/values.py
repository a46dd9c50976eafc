"""Small value grammars the Istio rules share: numbers, percentages, preStop
sleeps, booleans written as strings, and version tags (durations are Go's
grammar, in ``meshlint.domain.k8s.durations``).

Every parser returns None for a value it cannot read: schema violations are
M004's business, the other rules treat an unreadable value as absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import Location, Slot
from meshlint.domain.k8s.objects import number
from meshlint.domain.numbers import integer

# preStop commands: statements, sleep arguments, and commands that return at once
_STATEMENT_END = re.compile(r"&&|\|\||[;\n]|(?<![<>])&(?![>&])")  # not the & of 2>&1
_SLEEP_ARG = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)")
_SLEEP_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
_QUICK = frozenset(
    {"kill", "pkill", "killall", "echo", "printf", "true", ":", "touch", "rm", "exit"}
)
_COMMENT = re.compile(r"(?:^|(?<=\s))#[^\n]*")
_REDIRECTION = re.compile(r"[0-9&]?[<>]{1,2}(?:&?[0-9]+|\S*)")
_VERSION = re.compile(r"(?:^|[^0-9])(\d+)\.(\d+)(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Located:
    """A value and the place that set it (a picklable fact for check_run).

    ``slot`` is how a fix rewrites the value, kept only for the values a rule
    may want to change (a sampling rate, a host-header fallback set false)."""

    value: Any
    at: Location
    slot: Slot | None = None


def float_value(value: Any) -> float | None:
    """A float written as a YAML number or a numeric string (``"100"`` in env
    values, read by Go's strconv.ParseFloat): sampling rates, seconds counts."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def truthy(value: Any) -> bool:
    """``true``/``"true"``/``"True"`` as Go's strconv.ParseBool reads them."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "t")


def falsy(value: Any) -> bool:
    if isinstance(value, bool):
        return not value
    return isinstance(value, str) and value.strip().lower() in ("false", "0", "f")


def prestop_seconds(lifecycle: Any, *, unknown: float) -> float | None:
    """How long a container's preStop hook keeps it alive, in seconds; None: no hook.

    Read: the ``sleep`` action (``sleep.seconds``), and an ``exec`` hook whose
    command (or ``sh -c`` script) is only ``sleep N`` statements (GNU suffixes
    s/m/h/d, summed) and quick ones that return at once (``kill``, ``echo``,
    ``nginx -s quit``...). ``tcpSocket`` and an empty hook run nothing: 0.

    Everything else has a length meshlint cannot read: ``httpGet`` (it waits for
    the application's answer), a script or binary (``/drain.sh``), a loop or
    ``wait``, ``sleep infinity``. Callers say what such a hook counts as through
    ``unknown``: ``math.inf`` where the question is "may it outlast X" (an app
    hook against the proxy's drain), ``0.0`` where only a known delay may be
    added up (the proxy's own hook before a SIGKILL).
    """
    if not isinstance(lifecycle, dict):
        return None
    hook = lifecycle.get("preStop")
    if not isinstance(hook, dict):
        return None
    if "sleep" in hook:
        sleep = hook.get("sleep")
        wait = float_value(sleep.get("seconds")) if isinstance(sleep, dict) else None
        return wait if wait is not None and wait >= 0 else unknown
    if "exec" in hook:
        command = hook.get("exec", {}).get("command") if isinstance(hook["exec"], dict) else None
        wait = _command_seconds(command) if isinstance(command, list) else None
        return wait if wait is not None else unknown
    if "httpGet" in hook:
        return unknown
    return 0.0  # tcpSocket (not run as a lifecycle handler) or no handler at all


def _command_seconds(command: list[Any]) -> float | None:
    words = [str(c) for c in command]
    if not words:
        return None
    script = _shell_script(words)
    total = 0.0
    for statement, background in _statements(script):
        argv = [w for w in _without_redirections(statement.split())]
        if argv[:1] == ["exec"]:
            argv = argv[1:]
        if not argv:
            continue
        name = argv[0].rsplit("/", 1)[-1]
        if name == "sleep" and len(argv) > 1:
            for arg in argv[1:]:
                match = _SLEEP_ARG.fullmatch(arg)
                if not match:
                    return None
                if not background:  # "sleep 5 &" returns at once
                    total += float(match.group(1)) * _SLEEP_UNITS[match.group(2)]
        elif name in _QUICK or (name == "nginx" and "-s" in argv):
            continue
        else:
            return None
    return total


def _shell_script(words: list[str]) -> str:
    """The script of ``sh -c SCRIPT`` (flags may be combined: ``-ec``), else the command."""
    if words[0].rsplit("/", 1)[-1] in _SHELLS:
        for i, word in enumerate(words[1:-1], 1):
            if word.startswith("-") and not word.startswith("--") and "c" in word[1:]:
                return words[i + 1]
    return " ".join(words)


def _statements(script: str) -> list[tuple[str, bool]]:
    """(statement, runs in the background) for each statement, comments removed."""
    script = _COMMENT.sub("", script)
    out = []
    start = 0
    for match in _STATEMENT_END.finditer(script):
        out.append((script[start : match.start()], match.group() == "&"))
        start = match.end()
    out.append((script[start:], False))
    return out


def _without_redirections(argv: list[str]) -> list[str]:
    """Drop ``> /dev/null``, ``2>&1``, ``>>log``, ``<in``: they do not change how long it runs."""
    out: list[str] = []
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif _REDIRECTION.fullmatch(word):
            skip = word.rstrip("0123456789&") in (">", ">>", "<", "2>", "1>", "&>")
        else:
            out.append(word)
    return out


def version_of(tag: Any) -> tuple[int, int] | None:
    """``1.22.3``, ``1.22-alpha.x``, ``docker.io/istio/pilot:1.20.1-distroless`` -> (1, 22)."""
    if not isinstance(tag, str):
        return None
    text = tag.rsplit(":", 1)[-1] if "/" in tag or ":" in tag else tag
    match = _VERSION.search(text)
    if not match or match.group(1) != "1":
        return None
    try:
        return 1, integer(match.group(2))
    except ValueError:  # 1.<5,000 digits>: no Istio release
        return None


def percent(value: float) -> str:
    return f"{value:g}%"
