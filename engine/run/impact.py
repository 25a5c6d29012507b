"""What a revision does to a population (DESIGN section 6): every line decided under two
pinned versions, folded into a Tally that holds no line once counted, so memory does not
grow with the population.

Tallies merge, and a merge gives the same Tally whatever the partitioning: sums and counts
add, and every choice (the largest move, the top movers, the failures listed) breaks ties
by line number. That is what lets a population be cut into partitions and decided in other
processes or on a Dask or Spark cluster: `partition()` is the function such a job imports.
"""
from __future__ import annotations

import decimal
import heapq
from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import PolicyError
from . import compiled
from .batch import chunks
from .versions import pinned

LISTED_FAILURES = 10   # failed lines listed with their errors (all are counted)
TOP_MOVERS = 10        # lines kept per number and direction, with their key inputs
MAX_PAIRS = 1000       # distinct old -> new pairs of a text result before it is not counted
KEY_INPUTS = 8         # top-level scalar facts kept of a top mover
ABSENT = "(absent)"
_EXACT = decimal.Context(prec=200, traps=[decimal.Inexact, decimal.Overflow, decimal.InvalidOperation])


@dataclass
class Number:
    """One top-level decimal result key across the population."""
    old_total: Decimal | None = None
    new_total: Decimal | None = None
    increased: int = 0
    decreased: int = 0
    unchanged: int = 0
    not_compared: int = 0   # lines where one version gives a number and the other text, yes/no or null
    up: list = field(default_factory=list)     # min-heap of (delta, -line, line, old, new, inputs): the largest rises
    down: list = field(default_factory=list)   # min-heap of (-delta, -line, ...): the largest falls
    bins: dict = field(default_factory=dict)   # histogram of the change per line: bucket -> lines

    def add(self, line: int, old, new, inputs, other: bool = False) -> None:
        """other: the side that is None gave something that is not a number (not compared)."""
        if other:
            self.not_compared += 1
        if old is not None:
            self.old_total = old if self.old_total is None else _EXACT.add(self.old_total, old)
        if new is not None:
            self.new_total = new if self.new_total is None else _EXACT.add(self.new_total, new)
        if old is None or new is None:
            return
        delta = _EXACT.subtract(new, old)
        if delta > 0:
            self.increased += 1
            _keep(self.up, (delta, -line, line, old, new, inputs))
        elif delta < 0:
            self.decreased += 1
            _keep(self.down, (-delta, -line, line, old, new, inputs))
        else:
            self.unchanged += 1
        bucket = bucket_of(delta)
        self.bins[bucket] = self.bins.get(bucket, 0) + 1

    def merge(self, other: "Number") -> None:
        for name in ("old_total", "new_total"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(self, name, theirs if mine is None else mine if theirs is None else _EXACT.add(mine, theirs))
        self.increased += other.increased
        self.decreased += other.decreased
        self.unchanged += other.unchanged
        self.not_compared += other.not_compared
        for entry in other.up:
            _keep(self.up, entry)
        for entry in other.down:
            _keep(self.down, entry)
        for bucket, n in other.bins.items():
            self.bins[bucket] = self.bins.get(bucket, 0) + n


def _keep(heap: list, entry) -> None:
    """The TOP_MOVERS largest entries (by move, then the earlier line)."""
    if len(heap) < TOP_MOVERS:
        heapq.heappush(heap, entry)
    elif entry[:2] > heap[0][:2]:
        heapq.heapreplace(heap, entry)


def bucket_of(delta: Decimal) -> int:
    """The histogram bucket of a change: 0 for none, else +-(1 + the index of the 1-2-5
    step at or below |delta|, from 10^-12 up), so buckets are the same in every process."""
    if delta == 0:
        return 0
    size = abs(delta)
    exponent = size.adjusted()   # 10^exponent <= size < 10^(exponent + 1)
    lead = _EXACT.scaleb(size, -exponent)
    step = 0 if lead < 2 else 1 if lead < 5 else 2
    index = max(0, (exponent + 12) * 3 + step) + 1
    return index if delta > 0 else -index


def bucket_floor(bucket: int) -> Decimal:
    """The lower edge of |change| in a bucket (bucket_of's inverse)."""
    index = abs(bucket) - 1
    return Decimal((1, 2, 5)[index % 3]).scaleb(index // 3 - 12)


@dataclass
class Tally:
    policy: str
    old: tuple[str, str]   # (version, digest)
    new: tuple[str, str]
    population: int = 0
    failed: int = 0
    changed: int = 0
    failures: list = field(default_factory=list)     # (line, error) of the first failed lines
    numbers: dict = field(default_factory=dict)      # key -> Number, in the order first seen
    categories: dict = field(default_factory=dict)   # key -> {"old -> new": lines}, or None past MAX_PAIRS

    def add(self, line: int, old: dict | None, new: dict | None, inputs, error: str | None = None) -> None:
        self.population += 1
        if error is not None:
            self.failed += 1
            self._listed([(line, error)])
            return
        moved = False
        for key in _keys(old, new):
            a, b = old.get(key), new.get(key)
            if _decimal(a) or _decimal(b):
                other = (key in old and not _decimal(a)) or (key in new and not _decimal(b))
                a = a if _decimal(a) else None
                b = b if _decimal(b) else None
                self.numbers.setdefault(key, Number()).add(line, a, b, inputs, other)
                moved = moved or other or (a is not None and b is not None and a != b)
            elif _category(a) or _category(b) or (key in old) != (key in new):
                pairs = self.categories.setdefault(key, {})
                if pairs is not None:
                    pair = f"{_shown(old, key)} -> {_shown(new, key)}"
                    pairs[pair] = pairs.get(pair, 0) + 1
                    if len(pairs) > MAX_PAIRS:
                        self.categories[key] = None
        self.changed += moved

    def merge(self, other: "Tally") -> "Tally":
        if (self.policy, self.old, self.new) != (other.policy, other.old, other.new):
            raise ValueError(f"tallies of different questions: {self.old, self.new} and {other.old, other.new} "
                             "(a worker evaluated other rules)")
        self.population += other.population
        self.failed += other.failed
        self.changed += other.changed
        self._listed(other.failures)
        for key, number in other.numbers.items():
            self.numbers.setdefault(key, Number()).merge(number)
        for key, pairs in other.categories.items():
            mine = self.categories.setdefault(key, {})
            if mine is None or pairs is None:
                self.categories[key] = None
                continue
            for pair, n in pairs.items():
                mine[pair] = mine.get(pair, 0) + n
            if len(mine) > MAX_PAIRS:
                self.categories[key] = None
        return self

    def _listed(self, failures) -> None:
        self.failures = sorted(self.failures + list(failures))[:LISTED_FAILURES]


def _keys(old: dict, new: dict) -> list:
    return list(old) + [k for k in new if k not in old]


def _decimal(value) -> bool:
    """A number result: a Decimal, or a whole number (never a yes/no, which is an int too)."""
    return type(value) is Decimal or type(value) is int


def _category(value) -> bool:
    return isinstance(value, (str, bool))


def _shown(result: dict, key: str) -> str:
    if key not in result:
        return ABSENT
    value = result[key]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return value if isinstance(value, str) else type(value).__name__


# -- deciding lines ------------------------------------------------------------------------------

def partition(rules, policy: str, old: str, new: str, lines, as_of=None, known_at=None) -> Tally:
    """A Tally of numbered lines [(line number, JSON text of one facts object)], each decided
    under version `old` and under version `new` of `policy`. The public partition function:
    a Dask or Spark job calls it on each partition and merges the Tallies (Tally.merge)."""
    versions = list(rules.versions(policy))
    tally = Tally(policy, _id(policy, versions, old), _id(policy, versions, new))
    for number, text in lines:
        tally_line(rules, tally, int(number), text, as_of, known_at)   # a numpy int64 from pandas is written as JSON too
    return tally


def _id(policy: str, versions: list, version: str) -> tuple[str, str]:
    v = pinned(policy, versions, version)
    return v.version, v.digest


def tally_line(rules, tally: Tally, number: int, text, as_of, known_at) -> None:
    name = f"line {number}"
    if not text or (text.isspace() if isinstance(text, (str, bytes)) else False):
        tally.add(number, None, None, None, "an empty line: expected one facts object")
        return
    parsed = compiled.parse(text)   # read once for both versions where the quick reader can
    results, inputs = [], None
    for version in (tally.old[0], tally.new[0]):
        d = None
        if parsed is not None:
            d = rules.evaluate_read(tally.policy, parsed[0], parsed[1], version=version, as_of=as_of,
                                    known_at=known_at, facts_name=name)
        if d is None:
            try:
                d = rules.evaluate(tally.policy, text, version=version, as_of=as_of, known_at=known_at,
                                   facts_name=name)
            except PolicyError as exc:
                tally.add(number, None, None, None, _said(exc, number, text, version))
                return
        results.append(d.result)
    if parsed is not None:
        inputs = _inputs(parsed[0])
    else:   # decided, so the strict reader reads it
        from ..load.jsonfacts import parse_json
        inputs = _inputs(parse_json(text, name))
    tally.add(number, results[0], results[1], inputs)


def _said(exc: PolicyError, number: int, text, version: str) -> str:
    """The error as `policy eval --batch` says it, naming the version unless the line is
    not a facts object at all (not JSON, say), which no version could decide."""
    from ..load.jsonfacts import parse_json
    from .batch import line_error
    said = line_error(number, exc)["error"]
    try:
        facts = parse_json(text, f"line {number}")
    except PolicyError:
        return said
    return said if not isinstance(facts, dict) else f"under {version}: {said}"


def _inputs(facts) -> tuple:
    """A top mover's key inputs: its first top-level scalar facts."""
    if not isinstance(facts, dict):
        return ()
    out = []
    for key, value in facts.items():
        if isinstance(value, (str, bool, int, Decimal)) or value is None:
            out.append((key, value))
        elif isinstance(value, list):
            out.append((key, f"{len(value)} item{'s' if len(value) != 1 else ''}"))
        elif isinstance(value, dict):   # one level down: "a.b"
            out += [(f"{key}.{k}", v) for k, v in value.items()
                    if isinstance(v, (str, bool, int, Decimal)) or v is None]
        if len(out) >= KEY_INPUTS:
            break
    return tuple(out[:KEY_INPUTS])


# -- a whole population, in this process or in N --------------------------------------------------

CHUNK = 1000   # lines a worker decides at a time
AHEAD = 2      # chunks in flight per worker


class Folding:
    """Partitions' tallies folded into one as they come (in any order), with progress; a
    tally of other rules ends the run (RunError), with no report."""

    def __init__(self, total: Tally, progress=None):
        self.total, self.progress, self.done = total, progress, 0

    def __call__(self, part: Tally) -> None:
        from ..errors import RunError
        try:
            self.total.merge(part)
        except ValueError as exc:
            raise RunError(str(exc)) from None
        self.done += part.population
        if self.progress:
            self.progress(self.done, self.total.failed)


def numbered(start: int, lines: list):
    return [(start + i, line.rstrip(b"\r\n") if isinstance(line, bytes) else line) for i, line in enumerate(lines)]


def run(rules, policy: str, old: str, new: str, stream, as_of=None, known_at=None, workers: int = 1,
        progress=None) -> Tally:
    """The Tally of every line of stream, in this process or in `workers` processes (each
    loads the rules once; a worker whose rules differ is refused when its tally merges)."""
    total = partition(rules, policy, old, new, [], as_of, known_at)
    fold = Folding(total, progress)
    if workers <= 1:
        for start, lines in chunks(stream, CHUNK):
            fold(partition(rules, policy, old, new, numbered(start, lines), as_of, known_at))
        return total
    from concurrent.futures import ProcessPoolExecutor
    from .batch import _init_worker
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(str(rules.root),)) as pool:
        pending = []
        for start, lines in chunks(stream, CHUNK):
            pending.append(pool.submit(_worker_partition, policy, old, new, numbered(start, lines), as_of, known_at))
            while len(pending) >= workers * AHEAD:   # bounded: memory does not grow with the population
                fold(_result(pending.pop(0)))
        for future in pending:
            fold(_result(future))
    return total


def _result(future) -> Tally:
    from concurrent.futures.process import BrokenProcessPool
    from ..errors import RunError
    try:
        return future.result()
    except BrokenProcessPool:
        raise RunError("a worker process died, so there is no report (was it killed, or out of memory?)") from None


def _worker_partition(policy, old, new, lines, as_of, known_at) -> Tally:
    from . import batch
    return partition(batch._WORKER["rules"], policy, old, new, lines, as_of, known_at)
