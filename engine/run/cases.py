"""YAML cases: facts, and the expected result under each named version.

A case file (rules/<policy>/cases/<name>.yaml, schemas/case-file.schema.json):

    description: what the case shows, with the arithmetic worked by hand
    facts: {...}              # or facts_file: path relative to the case file
    as_of: "2024-07-31"       # optional
    known_at: "2025-01-01T00:00:00Z"   # optional; default FIXED_KNOWN_AT
    versions:
      "2024-06-04":
        result: {total: "5711.23"}      # a partial match: only the keys given are compared
        warnings: [MISSING_DAYS]        # optional: the exact list of warning codes

A value in quotes is compared as text ("5711.23": the amount and its two decimals); an
unquoted number by value (2.5005 matches "2.50050000"). What can be
known before the case runs is checked when it loads (engine.run.casecheck).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..check import schema as schemacheck
from ..errors import Diagnostic, FactsError, PolicyError, RuleError, UsageError, did_you_mean
from ..load import jsonfacts, layout
from ..load.yamlfile import load_yaml
from ..report.decision import Decision, to_plain
from ..values import show
from . import casecheck
from .ruleset import RuleSet, _display, shipped_dir

# Cases pin known_at so that their decisions (and snapshots) never depend on today.
FIXED_KNOWN_AT = "2026-01-01T00:00:00Z"


@dataclass(frozen=True)
class Case:
    policy: str
    name: str
    path: Path
    description: str
    facts: object
    as_of: str | None
    known_at: str
    expect: dict          # version id -> {"result": {...}, "warnings": [...]}


@dataclass(frozen=True)
class Outcome:
    case: Case
    version: str
    problems: tuple[str, ...]
    decision: Decision | None

    @property
    def passed(self) -> bool:
        return not self.problems


def load_cases(rules: RuleSet, policies=None, names=None, *, checked: bool = True) -> list[Case]:
    """The cases of the policies given (default: all), or only those named ("policy/case"),
    each checked against the case-file schema and (checked=True) against the versions it
    names. RuleError listing every problem of every file. checked=False is for running a
    case's facts under versions other than those it expects results of."""
    validator = _validator()
    cases, errors = [], []
    for policy in sorted(policies or rules.policies):
        rules.versions(policy)
        for path in layout.case_files(rules.root, policy):
            if names is not None and f"{policy}/{path.stem}" not in names:
                continue
            try:
                cases.append(_load_case(rules, policy, path, validator, checked))
            except PolicyError as exc:
                errors.extend(exc.diagnostics)
    if errors:
        raise RuleError(errors)
    return cases


def select(rules: RuleSet, targets) -> tuple[list[str] | None, set[str] | None]:
    """`policy test` arguments ("policy" for all its cases, "policy/case" for one) ->
    (policies, case names or None for all). An unknown policy or case is a UsageError
    naming what there is."""
    policies, names, whole = [], set(), []
    for target in targets:
        policy, _, case = target.partition("/")
        rules.versions(policy)
        there = [p.stem for p in layout.case_files(rules.root, policy)]
        policies += [policy] if policy not in policies else []
        if not case:
            whole.append(policy)
            continue
        case = case.removesuffix(".yaml")
        if case not in there:
            raise UsageError(f"no case '{case}' in {policy}{did_you_mean(case, there)} "
                             f"(its cases: {', '.join(there) or 'none'})")
        names.add(f"{policy}/{case}")
    if not names:
        return policies or None, None
    return policies, names | {f"{p}/{c.stem}" for p in whole for c in layout.case_files(rules.root, p)}


def _validator():
    return schemacheck.validator_for(schemacheck.load_schema(shipped_dir("schemas") / "case-file.schema.json"))


def facts_file(src, path: Path, name: str):
    """(the file, its facts) of a `facts_file:` beside path (a case or chart file); a file
    that cannot be read is an error at that key, bad JSON an error in the file."""
    file = path.parent / name
    try:
        return file, jsonfacts.parse_json(file.read_bytes(), _display(file))
    except OSError as exc:
        raise RuleError(src.diag(("facts_file",), f"cannot read {name}: {exc.strerror}")) from None
    except FactsError as exc:
        raise RuleError(exc.diagnostics) from None


def _load_case(rules: RuleSet, policy: str, path: Path, validator, checked: bool = True) -> Case:
    src = load_yaml(path.read_bytes(), _display(path))
    d = src.data
    if not isinstance(d, dict):
        raise RuleError(src.diag((), "a case is a mapping with a description, facts and versions"))
    problems = [src.diag(at, message, key) for at, message, key in schemacheck.explain(validator, d)]
    if ("facts" in d) == ("facts_file" in d):
        problems.append(src.diag((), "a case needs exactly one of 'facts' or 'facts_file'"))
    if problems:
        raise RuleError(problems)
    facts, where_of = d.get("facts"), None
    if "facts_file" in d:
        file, facts = facts_file(src, path, d["facts_file"])
        where_of = lambda at, message: Diagnostic(_display(file), message, schemacheck.json_path(at))  # noqa: E731
    else:
        try:
            facts = jsonfacts.clean(facts, src.path)
        except FactsError as exc:
            raise RuleError([src.diag(("facts",), str(e.message if not e.path else f"{e.path}: {e.message}"))
                             for e in exc.diagnostics]) from None
        where_of = lambda at, message: src.diag(("facts",) + tuple(at), message)  # noqa: E731
    by_id = {v.version: v for v in rules.versions(policy)}
    for version, entry in d["versions"].items() if checked else ():
        at = ("versions", version)
        if version not in by_id:
            problems.append(src.diag(at, f"'{version}' is not a version of {policy}{did_you_mean(version, by_id)} "
                                         f"(its versions: {', '.join(by_id)})", key=True))
            continue
        problems += casecheck.expectation_problems(src, at, entry, by_id[version])
        problems += [where_of(p, m) for p, m in casecheck.facts_problems(by_id[version], facts)]
    if problems:
        raise RuleError(problems)
    return Case(policy, path.stem, path, d["description"], facts, d.get("as_of"),
                d.get("known_at", FIXED_KNOWN_AT), d["versions"])


def _compare(expected, actual, where: str, problems: list):
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            problems.append(f"{where}: expected an object, found {show(actual, 'found')}")
            return
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing from the result")
            else:
                _compare(value, actual[key], f"{where}.{key}", problems)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            problems.append(f"{where}: expected {len(expected)} items, found {show(actual, 'found')}")
            return
        for i, (e, a) in enumerate(zip(expected, actual)):
            _compare(e, a, f"{where}[{i}]", problems)
    elif isinstance(expected, bool) or isinstance(actual, bool):
        if expected is not actual:
            problems.append(f"{where}: expected {show(expected, 'rule')}, found {show(actual, 'rule')}")
    elif _number(expected) and (_number(actual) or _numeric_text(actual)):
        # unquoted, a number is compared by value (2.5005 is 2.50050000); quoted, as text
        if Decimal(expected) != Decimal(str(actual)):
            problems.append(f"{where}: expected {format(Decimal(expected), 'f')} (compared by value), "
                            f"found {show(actual, 'found')}")
    else:
        want = format(expected, "f") if isinstance(expected, Decimal) else expected
        if isinstance(want, int) and not isinstance(want, bool) and isinstance(actual, str):
            want = str(want)
        if want != actual:
            problems.append(f"{where}: expected {show(want, 'found')}, found {show(actual, 'found')}")


def _number(value) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _numeric_text(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite()
    except ArithmeticError:
        return False


def run_case(rules: RuleSet, case: Case, version: str) -> Outcome:
    expect = case.expect[version] or {}
    try:
        decision = rules.evaluate(case.policy, case.facts, as_of=case.as_of, known_at=case.known_at,
                                  version=version, facts_name=_display(case.path))
    except PolicyError as exc:
        return Outcome(case, version, tuple(str(d) for d in exc.diagnostics), None)
    problems: list[str] = []
    _compare(expect.get("result", {}), to_plain(decision.result), "result", problems)
    if "warnings" in expect:
        codes = [w["code"] for w in decision.warnings]
        if codes != list(expect["warnings"]):
            problems.append(f"warnings: expected {list(expect['warnings'])}, found {codes}")
    return Outcome(case, version, tuple(problems), decision)


def run_all(rules: RuleSet, policies=None, names=None) -> list[Outcome]:
    return [run_case(rules, case, str(v)) for case in load_cases(rules, policies, names) for v in case.expect]


__all__ = ["Case", "Outcome", "load_cases", "select", "run_case", "run_all", "FIXED_KNOWN_AT", "Diagnostic"]
