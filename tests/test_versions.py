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
