"""The mutation fuzz (tests/mutation_fuzz.py) over a bounded sample of the real
corpus, with a fixed seed: no mutant may end in an internal error. The full run
is ``MESHLINT_FUZZ_FULL=1 python tests/mutation_fuzz.py`` (nightly), which also
prints the slowest files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mutation_fuzz import MUTATORS, lint_mutant, mutants

from conftest import require_shared

# Mutants linted in the suite: every mutation kind nine times, from files small
# enough that the sample takes seconds.
SAMPLE = int(os.environ.get("MESHLINT_MUTANTS", str(9 * len(MUTATORS))))


@pytest.mark.slow
def test_mutated_real_manifests_never_end_in_an_internal_error(corpus: Path) -> None:
    failures = []
    for mutant in mutants(require_shared(corpus, "the corpus"), SAMPLE, max_bytes=64 * 2**10):
        errors, _ = lint_mutant(mutant)
        failures += [f"{mutant}: {error}" for error in errors]
    assert failures == [], f"{len(failures)} internal errors, first: {failures[:5]}"
