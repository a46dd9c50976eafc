"""The bad/good fixture pair of every rule: ``tests/rules/<slug>/{bad,good}.yaml``.

``bad.yaml`` marks each expected finding with ``# [slug]`` on the reported
line; ``good.yaml`` must produce no finding of that rule.
"""

from __future__ import annotations

import pytest

from conftest import BY_SLUG, CHART_RULES, FIXTURES, RULES
from meshlint.testing import assert_fixtures


@pytest.mark.parametrize("slug", sorted(set(BY_SLUG) - CHART_RULES))
def test_fixture_pair(slug: str) -> None:
    bad = (FIXTURES / slug / "bad.yaml").read_text(encoding="utf-8")
    good = (FIXTURES / slug / "good.yaml").read_text(encoding="utf-8")
    assert_fixtures(BY_SLUG[slug], bad, good, catalogue=RULES.values(), name=slug)
