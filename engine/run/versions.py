"""Which version applies: effective date (as_of) and publication (known_at)."""
from __future__ import annotations

from datetime import date, datetime

from ..errors import NoVersionError, UsageError
from ..compile.model import Version


def known(versions: list[Version], known_at: datetime) -> list[Version]:
    """The versions published at or before known_at."""
    return [v for v in versions if v.published <= known_at]


def select(policy: str, versions: list[Version], as_of: date, known_at: datetime) -> Version:
    """The latest version with effective_from <= as_of among those published <= known_at.
    Two versions effective the same day: the later published wins (a revision)."""
    candidates = [v for v in known(versions, known_at) if v.effective_from <= as_of]
    if not candidates:
        published = known(versions, known_at)
        if not published:
            raise NoVersionError(f"no version of '{policy}' was published by {fmt_ts(known_at)}")
        first = min(v.effective_from for v in published)
        raise NoVersionError(f"no version of '{policy}' is in effect on {as_of} (known at {fmt_ts(known_at)}); "
                             f"the earliest takes effect {first}")
    return max(candidates, key=lambda v: (v.effective_from, v.published))


def pinned(policy: str, versions: list[Version], version_id: str) -> Version:
    for v in versions:
        if v.version == version_id:
            return v
    from ..errors import did_you_mean
    ids = [v.version for v in versions]
    raise UsageError(f"policy '{policy}' has no version '{version_id}'{did_you_mean(version_id, ids)} "
                     f"(versions: {', '.join(ids)})")


def fmt_ts(ts: datetime) -> str:
    """UTC, to the second, with a Z: the one form timestamps take in output."""
    from datetime import timezone
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
