"""What a JSON Schema pattern says of every string it matches: only ASCII characters, and at
most how many. Generated facts checks (engine.compile.gen_schema) use it to leave out the
checks of jsonfacts.clean that such a string passes anyway."""
from __future__ import annotations

import re
import re._parser as sre   # the standard library's own reading of a pattern

_ANCHORS_START = {sre.AT_BEGINNING, sre.AT_BEGINNING_STRING}
_ANCHORS_END = {sre.AT_END, sre.AT_END_STRING}


def implies(rx: re.Pattern) -> tuple[bool, int | None]:
    """(every match is ASCII, the longest a match can be or None) for a whole-string pattern
    (anchored at both ends); (False, None) when it cannot say."""
    try:
        tree = sre.parse(rx.pattern, rx.flags)
    except Exception:  # pragma: no cover - a pattern that compiled parses
        return False, None
    items = list(tree)
    if not items or items[0] != (sre.AT, items[0][1]) or items[0][1] not in _ANCHORS_START \
            or items[-1][0] is not sre.AT or items[-1][1] not in _ANCHORS_END:
        return False, None
    if rx.flags & re.MULTILINE:
        return False, None
    low, high = tree.getwidth()
    return _ascii(items), (high if high < sre.MAXREPEAT else None)


def _ascii(items) -> bool:
    for op, arg in items:
        if op is sre.LITERAL:
            if arg >= 128:
                return False
        elif op is sre.IN:
            for kind, value in arg:
                if kind is sre.LITERAL and value < 128:
                    continue
                if kind is sre.RANGE and value[1] < 128:
                    continue
                return False
        elif op is sre.SUBPATTERN:
            if not _ascii(arg[-1]):
                return False
        elif op is sre.BRANCH:
            if not all(_ascii(branch) for branch in arg[1]):
                return False
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            if not _ascii(arg[2]):
                return False
        elif op is sre.AT:
            continue
        else:
            return False
    return True
