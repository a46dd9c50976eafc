"""Attributes whose values have no bound: one place, with the reason for each.

A metric series exists per distinct combination of its labels, and a component
that turns spans or requests into metrics keeps every series it has seen (until
it expires, if it ever does). A label taken from an attribute with an unbounded
set of values (an id, a raw URL, a client address) grows the process and the
metrics backend with traffic instead of with the size of the system.

Two vocabularies meet here: OpenTelemetry attribute names, which the
spanmetrics and servicegraph connectors turn into dimensions (O007), and
Istio's attribute expressions, which Telemetry ``tagOverrides``, the Helm
``configOverride`` and ``istio.stats`` EnvoyFilters turn into metric tags (I007).
"""

from __future__ import annotations

import re

# OpenTelemetry semantic-convention attributes (current and older spellings):
# name -> why its values have no bound. O007 takes the names as the default of
# its ``unbounded-attributes`` parameter.
OTEL_UNBOUNDED: dict[str, str] = {
    "url.full": "the whole URL: ids in the path and the query string make most requests distinct",
    "http.url": "the whole URL (old spelling of url.full)",
    "url.path": "the raw path holds ids (/orders/8812); http.route is its bounded template",
    "http.target": "path and query string (old spelling of url.path + url.query)",
    "url.query": "query strings are free-form",
    "db.statement": "query text with literals inlined (old spelling of db.query.text)",
    "db.query.text": "query text with literals inlined",
    "trace_id": "one value per trace",
    "span_id": "one value per span",
    "trace.id": "one value per trace",
    "span.id": "one value per span",
    "messaging.message.id": "one value per message",
    "session.id": "one value per user session",
    "enduser.id": "one value per user",
    "user.id": "one value per user",
    "service.instance.id": "one value per process start (SDKs and the operator set a UUID or the pod uid)",
    "k8s.pod.uid": "one value per pod: every rollout and reschedule adds new ones",
    "k8s.pod.name": "one value per pod: every rollout and reschedule adds new ones",
    "container.id": "one value per container start",
    "host.name": "on Kubernetes the SDK reports the pod's hostname, i.e. the pod name",
    "process.pid": "one value per process start",
    "client.address": "one value per client address",
    "net.sock.peer.addr": "one value per client address (old spelling of network.peer.address)",
    "network.peer.address": "one value per peer address",
    "client.port": "ephemeral client ports",
    "net.sock.peer.port": "ephemeral client ports (old spelling of network.peer.port)",
}

# Istio attribute expressions (CEL in Telemetry, the stats filter's expression
# language elsewhere): pattern -> why its values have no bound.
ISTIO_UNBOUNDED: dict[str, str] = {
    r"request\.url_path": "the path without query: ids in the path make most requests distinct",
    r"request\.path": "the path with its query string",
    r"request\.query_params": "query strings are free-form",
    r"request\.headers\s*\[": "request headers are set by clients, any value they like",
    r"request\.useragent": "the User-Agent header, set by clients",
    r"request\.id": "x-request-id: one value per request",
    r"request\.host": "the Host header: clients can send any value",
    r":authority": "the Host header: clients can send any value",
    r"source\.address|source\.port": "client addresses and ephemeral ports",
    r"request\.referer": "the Referer header: a full URL, set by clients",
    r"connection\.requested_server_name": "the TLS SNI, set by clients",
    r"destination\.address": "the upstream pod's IP and port: one value per endpoint",
}
_ISTIO_PATTERN = re.compile("|".join(f"(?:{p})" for p in ISTIO_UNBOUNDED))
# An expression that compares, tests or measures its input maps it onto a few values.
_BOUNDED_FORM = re.compile(
    r"\?|==|!=|<|>|\bhas\s*\(|\bsize\s*\(|\.(?:startsWith|endsWith|matches|contains)\s*\(|\sin\s"
)


def istio_unbounded(expression: str) -> str | None:
    """The unbounded attribute an Istio tag expression copies into a label, if any.

    An expression that only tests the attribute (``has(request.headers['x-tenant'])``,
    a comparison) yields a few values and is not reported. A ternary is judged by
    its branches, not its condition: ``has(request.headers['x-user']) ?
    request.headers['x-user'] : 'none'`` copies the raw header.
    """
    expression = _unwrapped(expression.strip())
    branches = _ternary(expression)
    if branches is not None:
        for branch in branches:
            found = istio_unbounded(branch)
            if found is not None:
                return found
        return None
    match = _ISTIO_PATTERN.search(expression)
    if match is None or _BOUNDED_FORM.search(expression):
        return None
    return match.group(0)


_OPEN, _CLOSE = "([{", ")]}"


def _unwrapped(expression: str) -> str:
    """``(x)`` as ``x``, where the parentheses enclose the whole expression."""
    while expression.startswith("(") and expression.endswith(")"):
        depth = 0
        for i, char in enumerate(expression):
            depth += (char == "(") - (char == ")")
            if depth == 0 and i < len(expression) - 1:
                return expression  # "(a) + (b)": the first pair closes early
        expression = expression[1:-1].strip()
    return expression


def _ternary(expression: str) -> tuple[str, str] | None:
    """The two branches of a top-level ``cond ? a : b`` (quotes and brackets
    respected), or None for any other expression."""
    depth, quote, question = 0, "", -1
    nested = 0  # ternaries opened inside the then-branch
    for i, char in enumerate(expression):
        if quote:
            if char == "\\":
                continue
            if char == quote and expression[i - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in _OPEN:
            depth += 1
        elif char in _CLOSE:
            depth -= 1
        elif depth == 0 and char == "?":
            if question < 0:
                question = i
            else:
                nested += 1
        elif depth == 0 and char == ":" and question >= 0:
            if nested:
                nested -= 1
            else:
                return expression[question + 1 : i], expression[i + 1 :]
    return None


def istio_reason(attribute: str) -> str:
    for pattern, reason in ISTIO_UNBOUNDED.items():
        if re.fullmatch(pattern, attribute) or re.match(pattern, attribute):
            return reason
    return "its values have no bound"


__all__ = ["ISTIO_UNBOUNDED", "OTEL_UNBOUNDED", "istio_reason", "istio_unbounded"]
