"""Version selection: effective date (as_of) and publication (known_at)."""
from datetime import date, datetime, timezone

import pytest

from engine import NoVersionError, UsageError
from engine.run.versions import pinned, select


class V:
    def __init__(self, version, effective, published):
        self.version = version
        self.effective_from = date.fromisoformat(effective)
        self.published = datetime.fromisoformat(published).replace(tzinfo=timezone.utc)


A = V("a", "2024-07-01", "2024-06-04T10:30:00")
B = V("b", "2024-07-01", "2024-06-11T13:00:00")     # a revision of a, same effective date
C = V("c", "2025-01-01", "2024-12-01T00:00:00")
ALL = [C, A, B]                                      # order of the list must not matter


def ts(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("as_of,known_at,expected", [
    ("2024-07-01", "2024-06-05T00:00:00", "a"),
    ("2024-07-01", "2024-06-11T12:59:59", "a"),
    ("2024-07-01", "2024-06-11T13:00:00", "b"),
    ("2024-12-31", "2030-01-01T00:00:00", "b"),
    ("2025-01-01", "2030-01-01T00:00:00", "c"),
    ("2025-01-01", "2024-11-30T23:59:59", "b"),      # c not yet published: the older rules answer
])
def test_select(as_of, known_at, expected):
    assert select("p", ALL, date.fromisoformat(as_of), ts(known_at)).version == expected


def test_nothing_in_effect_yet():
    with pytest.raises(NoVersionError, match="no version of 'p' is in effect on 2024-06-30 .*takes effect 2024-07-01"):
        select("p", ALL, date(2024, 6, 30), ts("2030-01-01T00:00:00"))


def test_nothing_published_yet():
    with pytest.raises(NoVersionError, match="no version of 'p' was published by 2024-01-01T00:00:00Z"):
        select("p", ALL, date(2024, 7, 1), ts("2024-01-01T00:00:00"))


def test_pinned():
    assert pinned("p", ALL, "c") is C
    with pytest.raises(UsageError, match="has no version 'd'"):
        pinned("p", ALL, "d")


def test_an_as_of_that_is_not_the_facts_date_is_warned_about_both_ways(rules):
    """February 2025 facts decided as of 2024-07-15: the rules of July 2024 are used, as asked,
    and the decision says the facts are for 2025-02-28 (msa-fee's as_of_default: the month's
    last day). The generated code, the interpreter and a batch line say the same."""
    import json
    from pathlib import Path
    from engine.run import batch
    from engine.run.ruleset import _parse_known_at
    root = Path(__file__).resolve().parent.parent
    facts = json.loads((root / "rules/msa-fee/cases/february-three-accounts.facts.json").read_text())
    expected = {"code": "AS_OF_NOT_THE_FACTS_DATE", "path": "month",
                "message": "as_of 2024-07-15 is not the date these facts are for (2025-02-28, from month 2025-02): "
                           "the rules in effect on 2024-07-15 were used"}
    for generated in (True, False):
        d = rules.evaluate("msa-fee", facts, as_of="2024-07-15", known_at="2025-06-01T00:00:00Z", generated=generated)
        assert d.warnings[-1] == expected and str(d.as_of) == "2024-07-15"
    line, _ = batch.decide_line(rules, "msa-fee", 1, json.dumps(facts).encode(), {
        "as_of": "2024-07-15", "known_at": _parse_known_at("2025-06-01T00:00:00Z"), "version": None, "trace": False})
    assert json.loads(line)["warnings"][-1] == expected
    same_day = rules.evaluate("msa-fee", facts, as_of="2025-02-28", known_at="2025-06-01T00:00:00Z")
    assert not any(w["code"] == "AS_OF_NOT_THE_FACTS_DATE" for w in same_day.warnings)
