"""How often a Helm finding lands on its template's own line: lints every
Helm-rendered file of a corpus and moves each finding to the chart templates
found under a checkout of the charts' repository (``meshlint.core.helm``).

    python tests/helm_placement.py ../shared/corpus/real /path/to/repo/charts [-v]

Only findings whose template exists under the charts directory count (a
dependency chart that is downloaded, not committed, has no template to land on).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from meshlint.api import Settings, lint_paths
from meshlint.core import helm


def main(corpus: Path, charts_root: Path, verbose: bool) -> None:
    files = [
        p for p in sorted(corpus.rglob("*.y*ml")) if "# Source: " in p.read_text(errors="replace")
    ]
    run = lint_paths([str(p) for p in files], Settings(isolated=True))
    dirs = [str(d) for d in sorted(charts_root.iterdir()) if (d / "Chart.yaml").is_file()]
    with_source = [f for f in run.report.findings if f.location.source]
    moved = helm.relocate(with_source, helm.Charts.from_dirs(dirs))
    print(f"rendered files {len(files)}, findings {len(run.report.findings)}, "
          f"with a '# Source:' {len(with_source)}")  # fmt: skip
    share = moved.placed / moved.moved if moved.moved else 0.0
    print(f"template in the repository: {moved.moved}; on the template's own line: "
          f"{moved.placed} ({share:.0%}); at line 1: {moved.moved - moved.placed}")  # fmt: skip
    absent = Counter(
        (f.location.source or "").split("/templates/")[0]
        for f in moved.findings
        if f.location.rendered is None
    )
    print("no template in the repository:", dict(sorted(absent.items())))
    if verbose:
        for f in moved.findings:
            if f.location.rendered is not None:
                loc = f.location
                print(f"{loc.file}:{loc.line}:{loc.column} {f.rule} {loc.path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), "-v" in sys.argv[3:])
