"""The bad/good fixture pair of every rule: ``tests/rules/<slug>/{bad,good}.yaml``.

``bad.yaml`` marks each expected finding with ``# [slug]`` on the reported
line; ``good.yaml`` must produce no finding of that rule.
"""

from __future__ import annotations

from collections import Counter

import pytest

from conftest import BY_SLUG, FIXTURES, findings_of, marked


@pytest.mark.parametrize("slug", sorted(BY_SLUG))
def test_good_fixture_is_clean(slug: str) -> None:
    text = (FIXTURES / slug / "good.yaml").read_text(encoding="utf-8")
    report = findings_of(BY_SLUG[slug], text, name=f"{slug}/good.yaml")
    assert not report.errors
    assert [(f.location.line, f.message) for f in report.findings] == []


@pytest.mark.parametrize("slug", sorted(BY_SLUG))
def test_bad_fixture_matches_markers(slug: str) -> None:
    text = (FIXTURES / slug / "bad.yaml").read_text(encoding="utf-8")
    report = findings_of(BY_SLUG[slug], text, name=f"{slug}/bad.yaml")
    assert not report.errors
    found = Counter((f.location.line, f.slug) for f in report.findings)
    expected = marked(text)
    assert expected, "bad.yaml has no # [slug] marker"
    assert found == expected
