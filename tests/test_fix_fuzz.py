"""A bounded sample of the `--fix --unsafe-fixes` fuzz (tests/fix_fuzz.py):
mutated real manifests fixed twice through the console script, with no
internal error, no file that parses worse, nothing a second run changes and no
line changed outside a fix's own edit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_cli_installed import console_script

from conftest import CORPUS, require_shared

sys.path.insert(0, str(Path(__file__).parent))
from fix_fuzz import fuzz


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_fix_fuzz_sample(seed: int) -> None:
    corpus = require_shared(CORPUS, "the corpus")
    tally = fuzz(console_script(), corpus, files=60, batches=1, seed=seed)
    assert tally.files >= 50
    assert tally.fixes > 0  # the sample exercises fixes at all
    assert tally.problems() == []
