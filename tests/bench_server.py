#!/usr/bin/env python3
"""Benchmark: `meshlint server` as an editor sees it.

    python tests/bench_server.py [--lines 2000] [--edits 1000] [--samples 20]

Starts the installed console script's server over stdio with a scripted pygls
client, in a temporary workspace holding one manifest of about ``--lines``
lines (Jaeger collectors, OpenTelemetry gateways and the ConfigMaps they mount,
so the cross-object joins run too). Prints:

- the time from ``didChange`` to the diagnostics of that version (median and
  90th percentile of ``--samples`` edits, each waited for; the server waits
  ``DEBOUNCE_SECONDS`` for the typing to pause, shown separately);
- the server's resident memory (VmRSS) after opening the file and after every
  quarter of ``--edits`` incremental edits (one line retyped each time, the
  diagnostics of every tenth edit waited for), then after closing the file.

Absolute times vary on a shared machine; memory should not grow with edits.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from meshlint.server.protocol import DEBOUNCE_SECONDS

MESHLINT = str(Path(sys.executable).parent / "meshlint")

UNIT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-collector-{n}
  namespace: tracing
spec:
  selector:
    matchLabels: {{app: jaeger-collector-{n}}}
  template:
    metadata:
      labels: {{app: jaeger-collector-{n}}}
    spec:
      containers:
        - name: collector
          image: jaegertracing/jaeger-collector:1.57.0
          env:
            - {{name: SPAN_STORAGE_TYPE, value: elasticsearch}}
            - {{name: GOMEMLIMIT, value: 400Mi}}
          resources:
            requests: {{memory: 512Mi}}
            limits: {{memory: 512Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: otel-gateway-{n}
  namespace: observability
spec:
  selector:
    matchLabels: {{app: otel-gateway-{n}}}
  template:
    metadata:
      labels: {{app: otel-gateway-{n}}}
    spec:
      containers:
        - name: otelcol
          image: otel/opentelemetry-collector-contrib:0.110.0
          args: ["--config=/conf/collector.yaml"]
          resources:
            requests: {{cpu: 200m, memory: 1Gi}}
            limits: {{memory: 1Gi}}
          volumeMounts:
            - {{name: conf, mountPath: /conf}}
      volumes:
        - name: conf
          configMap: {{name: otel-gateway-config-{n}}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: otel-gateway-config-{n}
  namespace: observability
data:
  collector.yaml: |
    receivers:
      otlp:
        protocols: {{grpc: {{endpoint: "0.0.0.0:4317"}}}}
    processors:
      memory_limiter: {{check_interval: 1s, limit_mib: 1500}}
      batch: {{send_batch_size: 512, send_batch_max_size: 1024}}
    exporters:
      otlp:
        endpoint: tempo-distributor:4317
        sending_queue: {{queue_size: 5000}}
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, batch]
          exporters: [otlp]
---
"""
EDITED = "            - {name: GOMEMLIMIT, value: 400Mi}"


def manifest(lines: int) -> str:
    parts, n = [], 0
    while sum(p.count("\n") for p in parts) < lines:
        parts.append(UNIT.format(n=n))
        n += 1
    return "".join(parts)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Bench:
    def __init__(self) -> None:
        self.client = LanguageClient("meshlint-bench", "1")
        self.versions: dict[int, float] = {}  # version -> when its diagnostics came
        self.event = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            if params.version is not None:
                self.versions[params.version] = time.perf_counter()
                self.event.set()

    async def wait(self, version: int, seconds: float = 60) -> float:
        deadline = time.perf_counter() + seconds
        while version not in self.versions:
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), max(0.01, deadline - time.perf_counter()))
        return self.versions[version]


async def run(lines: int, edits: int, samples: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "deploy").mkdir()
        path = root / "deploy" / "tracing.yaml"
        text = manifest(lines)
        path.write_text(text, encoding="utf-8")
        line = text.splitlines().index(EDITED)
        bench = Bench()
        client = bench.client
        await client.start_io(MESHLINT, "server")
        server = client._server  # the subprocess, for its memory
        assert server is not None
        await client.initialize_async(
            types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=root.as_uri())
        )
        client.initialized(types.InitializedParams())
        uri = path.as_uri()
        start = time.perf_counter()
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="yaml", version=1, text=text
                )
            )
        )
        await bench.wait(1)
        print(f"manifest: {text.count(chr(10))} lines, {text.count('---')} objects")
        print(f"open -> diagnostics: {bench.versions[1] - start:.3f} s")
        version = 1
        current = EDITED

        def edit(value: int) -> int:
            nonlocal version, current
            version += 1
            new = f"            - {{name: GOMEMLIMIT, value: {value}Mi}}"
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[
                        types.TextDocumentContentChangePartial(
                            range=types.Range(
                                start=types.Position(line, 0),
                                end=types.Position(line, len(current)),
                            ),
                            text=new,
                        )
                    ],
                )
            )
            current = new
            return version

        latencies = []
        for n in range(samples):
            sent = time.perf_counter()
            done = await bench.wait(edit(401 + n))
            latencies.append(done - sent)
        latencies.sort()
        p90 = latencies[int(0.9 * (len(latencies) - 1))]
        print(
            f"didChange -> diagnostics: median {statistics.median(latencies):.3f} s, "
            f"p90 {p90:.3f} s ({samples} edits; {DEBOUNCE_SECONDS:.3f} s of it is the debounce)"
        )
        print(f"RSS after open: {rss_kib(server.pid) / 1024:.1f} MiB")
        for n in range(1, edits + 1):
            sent_version = edit(1000 + n)
            if n % 10 == 0:
                await bench.wait(sent_version)
            if n % (edits // 4 or 1) == 0:
                print(f"RSS after {n} edits: {rss_kib(server.pid) / 1024:.1f} MiB")
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        await asyncio.sleep(DEBOUNCE_SECONDS * 3)
        print(f"RSS after close: {rss_kib(server.pid) / 1024:.1f} MiB")
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.lines, args.edits, args.samples))


if __name__ == "__main__":
    main()
