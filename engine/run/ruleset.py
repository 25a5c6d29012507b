"""A loaded rule set: every policy and version under a rules folder, all or nothing."""
from __future__ import annotations

import os
import time
from datetime import date, datetime, timezone
from pathlib import Path
from types import MappingProxyType

from ..check import facts as facts_check
from ..load import jsonfacts, layout
from . import items as facts_items
from ..check import schema as schemacheck
from . import versions
from ..compile.file import compile_file, compile_shared
from ..compile.shared import Shared
from ..report.decision import Decision
from ..errors import Diagnostic, FactsError, PolicyError, RuleError, UsageError, did_you_mean
from . import compiled
from .evaluate import Deadline, run
from ..compile.model import Version

_HERE = Path(__file__).resolve().parent.parent   # the engine package


def shipped_dir(name: str) -> Path:
    """The rules/ or schemas/ shipped with the engine: inside the installed package
    (a wheel), else beside the engine/ folder (a checkout or an editable install)."""
    inside = _HERE / "_shipped" / name
    return inside if inside.is_dir() else _HERE.parent / name


def default_rules_dir() -> Path:
    return Path(os.environ["POLICY_RULES"]) if os.environ.get("POLICY_RULES") else shipped_dir("rules")


_display = layout.display


class RuleSet:
    """Immutable after loading; safe to share between threads."""

    def __init__(self, root: Path, policies: dict[str, tuple[Version, ...]], shared=None):
        self.root = root
        self._policies = MappingProxyType(policies)
        self.shared = MappingProxyType(dict(shared or {}))

    @property
    def policies(self):
        return self._policies

    @property
    def digest(self) -> str:
        """One digest for the whole set: of its versions' digests (what `policy serve` shows as
        the active rule set, and `policy bundle build` and `verify` print)."""
        import hashlib
        text = "\n".join(v.digest for p in self._policies for v in self._policies[p])
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def versions(self, policy: str) -> tuple[Version, ...]:
        if policy not in self._policies:
            raise UsageError(f"unknown policy '{policy}'{did_you_mean(policy, self._policies)} "
                             f"(policies: {', '.join(sorted(self._policies)) or 'none'})")
        return self._policies[policy]

    def select(self, policy: str, as_of: date, known_at: datetime | None = None) -> Version:
        return versions.select(policy, list(self.versions(policy)), as_of, known_at or _now())

    def evaluate(self, policy: str, facts, *, as_of: date | str | None = None,
                 known_at: datetime | str | None = None, version: str | None = None,
                 facts_name: str = "facts", time_limit=None, generated: bool = True) -> Decision:
        """One decision. `facts` is a dict (floats are read from their shortest text) or JSON text.
        Raises FactsError, UsageError / NoVersionError, EvaluationError. generated=False: by
        the interpreter alone (else by the version's generated code where it can decide)."""
        deadline = Deadline(time_limit)   # seconds (a number or decimal text); None: POLICY_TIME_LIMIT or 10
        all_versions = self.versions(policy)
        known_at = _parse_known_at(known_at) if known_at is not None else _now()
        as_of = _parse_as_of(as_of) if as_of is not None else None
        parsed = compiled.parse(facts) if generated and isinstance(facts, (str, bytes)) else None
        if generated and (isinstance(facts, dict) or parsed is not None):
            fast = self._generated(policy, all_versions, facts if parsed is None else parsed[0], as_of, known_at,
                                   version, deadline, facts_name, parsed is not None,
                                   None if parsed is None else parsed[1], replay_facts=facts)
            parsed = None   # the interpreter reads the text again, and says what is wrong with it
            if fast is not None:
                return fast
        data = jsonfacts.parse_json(facts, facts_name) if isinstance(facts, (str, bytes)) else \
            jsonfacts.clean(facts, facts_name)
        given_as_of = as_of is not None
        if version is not None:
            chosen = versions.pinned(policy, all_versions, version)
        else:
            if as_of is None:
                as_of = self._default_as_of(policy, all_versions, data, known_at, facts_name)
            chosen = versions.select(policy, all_versions, as_of, known_at)
        deadline.check("", "reading the facts")
        facts_check.validate(chosen, data, facts_name)
        deadline.check("", "checking the facts")
        root, items, warnings = facts_items.build_items(chosen, data, facts_name)
        deadline.check("", "reading the facts")
        if as_of is None:
            as_of = _as_of_from(chosen, root.values) or known_at.date()
        selected = chosen
        chosen = chosen.for_dates(as_of, known_at)   # the shared values in effect for this decision
        try:
            result, trace, warnings, raised, reached = run(chosen, root, items, warnings, deadline)
        except FactsError as exc:   # found while evaluating: name the facts file too
            raise FactsError([Diagnostic(d.where or facts_name, d.message, d.path) for d in exc.diagnostics]) from None
        if given_as_of:
            stray = self.as_of_warning(selected, data, as_of, facts_name)
            if stray is not None:
                warnings = [*warnings, stray]
        return Decision(chosen, as_of, known_at, result, trace, warnings, raised, frozenset(reached), keep=items)

    def evaluate_read(self, policy: str, facts: dict, keys: int, *, as_of=None, known_at=None,
                      version: str | None = None, facts_name: str = "facts", time_limit=None) -> Decision | None:
        """The decision by generated code alone, of facts read from JSON text by
        engine.run.support.parse_line, whose text can hold `keys` keys (a key read twice is
        one key fewer), or None: the caller then reads the text strictly and asks evaluate,
        which says what is wrong. For a service that reads a body holding the facts."""
        try:
            all_versions = self.versions(policy)
            known_at = _parse_known_at(known_at) if known_at is not None else _now()
            as_of = _parse_as_of(as_of) if as_of is not None else None
        except PolicyError:
            return None
        return self._generated(policy, all_versions, facts, as_of, known_at, version, Deadline(time_limit),
                               facts_name, False, keys, replay_facts=facts)

    def _generated(self, policy, all_versions, facts, as_of, known_at, version, deadline, facts_name, owned, keys,
                   replay_facts) -> Decision | None:
        fast = compiled.decide(self, policy, all_versions, facts, as_of, known_at, version, deadline, facts_name,
                               owned=owned, keys=keys)
        if fast is None:
            return None
        used, day, result, warnings = fast
        return Decision(used, day, known_at, result, None, warnings,
                        replay=(self, policy, replay_facts, day, known_at, used.version, facts_name))

    as_of_from = staticmethod(lambda version, values: _as_of_from(version, values))

    @staticmethod
    def as_of_warning(version: Version, facts, as_of: date, facts_name: str) -> dict | None:
        """The warning for an as_of given that is not the date the facts are for (by the
        version's as_of_default: February 2025 facts decided as of 2024-07-15), or None."""
        if version.as_of_default is None:
            return None
        refs = [r for r in version.as_of_default.refs if r.kind == "value"]
        try:
            values = facts_items.read_top_inputs(version, facts, facts_name, [r.target for r in refs])
            implied = _as_of_from(version, values)
        except PolicyError:   # the facts' own errors are said by the decision itself
            return None
        if implied is None or implied == as_of:
            return None
        inputs = version.root.inputs
        shown = ", ".join(f"{schemacheck.json_path(inputs[r.target].path)} {values[r.target]}" for r in refs)
        return {"code": "AS_OF_NOT_THE_FACTS_DATE",
                "message": f"as_of {as_of.isoformat()} is not the date these facts are for ({implied.isoformat()}, "
                           f"from {shown}): the rules in effect on {as_of.isoformat()} were used",
                "path": schemacheck.json_path(inputs[refs[0].target].path) if refs else ""}

    def replayed(self, policy, facts, as_of, known_at, version, facts_name):
        """The interpreter's trace, conditions raised and rows reached (and the items the trace
        reads) for a decision generated code made: Decision asks when one of them is read."""
        d = self.evaluate(policy, facts, as_of=as_of, known_at=known_at, version=version,
                          facts_name=facts_name, generated=False)
        return d.raw_trace, d.raised, d.reached, d._keep

    def _default_as_of(self, policy, all_versions, data, known_at, facts_name) -> date:
        """as_of from the facts, by the as_of_default of the newest version known at known_at."""
        published = versions.known(all_versions, known_at)
        if not published:
            raise versions.NoVersionError(f"no version of '{policy}' was published by {versions.fmt_ts(known_at)}")
        newest = max(published, key=lambda v: (v.published, v.effective_from))
        if newest.as_of_default is None:
            return known_at.date()
        # Only the inputs the default reads are checked here: the facts as a whole are
        # checked against the schema of the version that applies, once it is chosen.
        try:
            values = facts_items.read_top_inputs(newest, data, facts_name,
                                               [r.target for r in newest.as_of_default.refs if r.kind == "value"])
        except FactsError:
            # The facts are bad where the date comes from: report everything the newest
            # version's schema finds, once, rather than this one problem now and the
            # rest on the next try.
            facts_check.validate(newest, data, facts_name)
            raise
        return _as_of_from(newest, values) or known_at.date()


class RuleStore:
    """For services: the rule set in use, and gated reloads. A rule set is activated only if
    it loads whole (every file validates) and every case of every policy passes; otherwise
    the errors are returned and the last good set keeps answering. Reading `current` is
    atomic, so requests never see half a reload. The first load is gated the same way
    (RuleError if it fails)."""

    def __init__(self, path: str | os.PathLike | None = None, *, gate_on_cases: bool = True):
        self.path = path
        self.gate_on_cases = gate_on_cases
        fresh, errors = self._candidate()
        if errors:
            raise RuleError(errors)
        self._current = fresh

    @property
    def current(self) -> RuleSet:
        return self._current

    def _candidate(self):
        """path: a folder, or a source that gives one for each load (a signed bundle, unpacked
        anew), and is told when the folder has been loaded and checked (source.release)."""
        source = self.path
        try:
            folder = source() if callable(source) else source
        except PolicyError as exc:
            return None, list(exc.diagnostics)
        try:
            fresh = load_rules(folder)
            return fresh, (case_failures(fresh) if self.gate_on_cases else [])
        except PolicyError as exc:
            return None, list(exc.diagnostics)
        finally:
            if callable(getattr(source, "release", None)):
                source.release(folder)

    def reload(self) -> list[Diagnostic]:
        """Load the rules again. [] when the new set is in use; its errors (rule files, or the
        cases that fail under it) when it was refused and the old set is still in use."""
        fresh, errors = self._candidate()
        if errors:
            return errors
        self._current = fresh
        return []

    def evaluate(self, policy: str, facts, **kwargs) -> Decision:
        return self._current.evaluate(policy, facts, **kwargs)


def case_failures(rules: RuleSet, policies=None) -> list[Diagnostic]:
    """Every problem of every case of the rule set (the gate of a reload, and of
    `policy validate --cases`): a case file that cannot be read, or a case whose decision
    differs from what it expects."""
    from .cases import run_all
    try:
        outcomes = run_all(rules, policies)
    except PolicyError as exc:   # a case file that cannot be read
        return list(exc.diagnostics)
    return [Diagnostic(_display(o.case.path), f"case '{o.case.name}' under version {o.version}: {problem}")
            for o in outcomes if not o.passed for problem in o.problems]


def _as_of_from(version: Version, values) -> date | None:
    if version.as_of_default is None:
        return None
    names = {r.name: values[r.target] for r in version.as_of_default.refs if r.kind == "value"}
    try:
        value = version.as_of_default.part("expr").evaluate(names)
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except (PolicyError, ValueError) as exc:
        shown = ", ".join(f"{k} {v!r}" for k, v in names.items())
        raise FactsError(f"the date this decision is for cannot be worked out from {shown}: "
                         f"{getattr(exc, 'diagnostics', [exc])[0]}") from None


def _now() -> datetime:
    """Now, to the second (the same object within a second: it is read for every decision)."""
    second = int(time.time())
    if _NOW[0] != second:
        _NOW[:] = [second, datetime.fromtimestamp(second, timezone.utc)]
    return _NOW[1]


_NOW: list = [None, None]


def _parse_as_of(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        text = str(value)
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of: expected a date YYYY-MM-DD, found {value!r}") from None


def _parse_known_at(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    text = str(value)
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.max.time().replace(microsecond=0),
                                    tzinfo=timezone.utc)
        return schemacheck.parse_timestamp(text)
    except ValueError:
        raise UsageError(f"--known-at: expected a date or a timestamp with a time zone such as "
                         f"2024-06-11T13:00:00Z, found {value!r}") from None


def _shared_validator(rule_schema: dict):
    """The shared-file schema is a definition inside the rule-file schema."""
    return schemacheck.validator_for({**rule_schema["$defs"]["shared_file"], "$defs": rule_schema["$defs"]})


def load_rules(path: str | os.PathLike | None = None, *, check_schemas: bool = True) -> RuleSet:
    """Load and check every rule file under path (default: the shipped rules or $POLICY_RULES).
    All or nothing: any error in any file raises RuleError listing every error found.
    check_schemas=False skips checking the facts schemas themselves against JSON Schema
    (a decision only uses them; `policy validate` checks them)."""
    root = Path(path) if path is not None else default_rules_dir()
    if not root.is_dir():
        raise UsageError(Diagnostic(str(root), "rules folder not found"))
    # A rules folder with a schemas/ beside it uses those schemas only: a schema missing
    # there is an error, not a silent fall-back to the engine's own copy.
    beside = root.parent / "schemas"
    schema_dirs = [beside] if beside.is_dir() else [shipped_dir("schemas")]
    try:
        rule_schema = schemacheck.load_schema(shipped_dir("schemas") / "rule-file.schema.json")
        rule_validator = schemacheck.validator_for(rule_schema)
    except (OSError, ValueError) as exc:  # pragma: no cover - a broken install
        raise RuleError(Diagnostic("rule-file.schema.json", f"cannot be read: {exc}")) from None
    errors: list[Diagnostic] = []
    shared: dict[str, Shared] = {}
    shared_validator = _shared_validator(rule_schema)
    for file in layout.shared_files(root):
        try:
            shared[file.stem] = compile_shared(file, _display(file), shared_validator)
        except PolicyError as exc:
            errors.extend(exc.diagnostics)
            shared[file.stem] = None   # known, but broken: the versions that use it are not compiled
    policies: dict[str, list[Version]] = {}
    errors += [Diagnostic(_display(file), why) for file, why in layout.stray(root)]
    for file in layout.rule_files(root):
        try:
            v = compile_file(file, _display(file), rule_validator, schema_dirs, shared, check_schemas)
        except PolicyError as exc:
            errors.extend(exc.diagnostics)
            continue
        policies.setdefault(v.policy, []).append(v)
    for policy, vs in policies.items():
        seen = {}
        for v in sorted(vs, key=lambda v: v.path):
            key = (v.effective_from, v.published)
            if key in seen:
                errors.append(Diagnostic(v.where_dates, f"version '{v.version}' has the same effective_from and "
                                                         f"published as '{seen[key]}': which applies would be ambiguous"))
            seen[key] = v.version
    if errors:
        raise RuleError(errors)
    ordered = {p: tuple(sorted(vs, key=lambda v: (v.effective_from, v.published))) for p, vs in sorted(policies.items())}
    return RuleSet(root, ordered, {k: v for k, v in shared.items() if v is not None})
