"""The process that renders charts with Helm's Go SDK (helm-python-sdk) for
``charts.HelmLibrary``, apart from the run: a template that loops or grows
without end cannot be stopped inside the library, so the run ends this process
instead.

It reads its jobs as JSON on stdin (each a chart directory, release, namespace,
its values files in order and its ``--set`` expressions) and writes one JSON
line per record as it happens, so that what was done survives a kill: which Helm
it embeds, each render as it starts, each result (the stream, or Helm's message).
A values file is read when its render starts, as the run reads files
(``core.files``, at most MAX_CHART_FILE_BYTES): the child holds the values of
the renders under way, not those of every job.

Of meshlint it imports ``core.files`` (and ``core.fsguard``) only: the package's
``__init__`` loads its API on first use, so a render pays for starting Python
and Go, not for the linter.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from meshlint.core.files import MAX_CHART_FILE_BYTES, MAX_INPUT_BYTES, read_text

# How the run starts this module. The child runs in the linted repository's
# directory, which ``-c`` puts first on sys.path: a ``yaml.py`` or ``meshlint.py``
# committed at its root would be imported, and run, in place of the real one. The
# entry is removed before anything is imported (sys is built in; PYTHONSAFEPATH or
# -P leave no such entry).
CODE = """
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
from meshlint.core.helm_child import main
main()
"""

# A rendered stream the run lints is at most as large as a manifest on disk may
# be; a record of the child's holds one, JSON-escaped.
MAX_RECORD_BYTES = 2 * MAX_INPUT_BYTES
# What Helm's library may take (address space: Go reserves more than it uses);
# a template that grows a string without end stops at this, not at the machine's.
CHILD_MEMORY = 2 * 2**30

_DOCUMENT_BREAK = re.compile(r"(?:^|\n)---[ \t]*(?=\n|$)")


def main() -> None:
    """Render the jobs on stdin, ``threads`` (the first job's) at a time."""
    import resource  # POSIX: the run imports this module on every platform

    _die_with_parent()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = CHILD_MEMORY if hard == resource.RLIM_INFINITY else min(CHILD_MEMORY, hard)
    if soft == resource.RLIM_INFINITY or soft > cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))

    import helm_python  # type: ignore[import-not-found,unused-ignore]

    jobs = json.loads(sys.stdin.read() or "[]")
    lock = threading.Lock()
    out = sys.stdout.buffer
    too_large = f"Helm rendered more than {MAX_INPUT_BYTES >> 20} MiB"

    def emit(record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False).encode("utf-8", "replace")
        if len(line) >= MAX_RECORD_BYTES:
            line = json.dumps({"index": record["index"], "error": too_large}).encode("utf-8")
        with lock:
            out.write(line + b"\n")
            out.flush()

    emit({"helm": helm_python.helm_sdk_version()})

    def one(job: dict[str, Any]) -> None:
        emit({"start": job["index"]})
        result = render(helm_python, job)
        stream = result.get("stream")
        if isinstance(stream, str) and len(stream.encode("utf-8", "replace")) > MAX_INPUT_BYTES:
            result = {"error": too_large, "seconds": result.get("seconds", 0.0)}
        emit({"index": job["index"], **result})

    from concurrent.futures import ThreadPoolExecutor

    threads = max(1, min(len(jobs), int(jobs[0].get("threads", 2)) if jobs else 1))
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, jobs))


def render(helm_: Any, job: Mapping[str, Any]) -> dict[str, Any]:
    """One render: the stream, or Helm's message."""
    start = time.perf_counter()
    try:
        values: dict[str, Any] = {}
        for file in job["files"]:
            text = read_text(file, MAX_CHART_FILE_BYTES)
            if text is None:
                return {"error": f"{file}: cannot read the values file"}
            values = _merged(values, helm_.values_from_yaml(text))
        for expression in job["sets"]:
            values = _merged(values, helm_.parse_set_string(expression))
        with helm_.Chart.load(job["directory"]) as chart:
            manifests = chart.render(
                values, name=job["release"], namespace=job["namespace"], is_install=True
            )
    except helm_.HelmError as exc:
        return {"error": str(exc), "seconds": time.perf_counter() - start}
    return {"stream": stream_of(manifests), "seconds": time.perf_counter() - start}


def _die_with_parent() -> None:
    """Linux: the kernel ends the child when the thread that started it ends
    (the run killed with SIGKILL, or out of memory), rather than leaving it
    rendering a template that never ends."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent was already gone
        os._exit(1)


def _merged(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Values layered as Helm layers ``-f`` files and ``--set``: maps merge, the
    rest is replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def stream_of(manifests: Mapping[str, str]) -> str:
    """Rendered templates joined as ``helm template`` joins them: each manifest
    after ``---`` and its ``# Source:`` line; notes, partials and empty output left out."""
    parts: list[str] = []
    for name in sorted(manifests):
        if name.endswith("NOTES.txt") or os.path.basename(name).startswith("_"):
            continue
        for document in _DOCUMENT_BREAK.split(manifests[name]):
            if document.strip():
                parts.append(f"---\n# Source: {name}\n{document.strip(chr(10))}\n")
    return "".join(parts)
