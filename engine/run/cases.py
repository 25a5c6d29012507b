"""YAML cases: facts, and the expected result under each named version.

A case file (rules/<policy>/cases/<name>.yaml):

    description: what the case shows, with the arithmetic worked by hand
    facts: {...}              # or facts_file: path relative to the case file
    as_of: "2024-07-31"       # optional
    known_at: "2025-01-01T00:00:00Z"   # optional; default FIXED_KNOWN_AT
    versions:
      "2024-06-04":
        result: {total: "5711.23"}      # a partial match: only the keys given are compared
        warnings: [MISSING_DAYS]        # optional: the exact list of warning codes

Values compare as text: a money amount is written with its two decimals.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..report.decision import Decision, to_plain
from ..errors import Diagnostic, PolicyError, RuleError, did_you_mean
from .ruleset import RuleSet, _display
from ..load.yamlfile import load_yaml

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


def load_cases(rules: RuleSet, policies=None) -> list[Case]:
    cases, errors = [], []
    for policy in sorted(policies or rules.policies):
        rules.versions(policy)
        for path in sorted((rules.root / policy / "cases").glob("*.yaml")):
            try:
                cases.append(_load_case(policy, path))
            except PolicyError as exc:
                errors.extend(exc.diagnostics)
    if errors:
        raise RuleError(errors)
    return cases


def _load_case(policy: str, path: Path) -> Case:
    src = load_yaml(path.read_bytes(), _display(path))
    d = src.data
    problems = []
    if not isinstance(d, dict):
        raise RuleError(src.diag((), "a case is a mapping with facts and versions"))
    for key in d:
        if key not in ("description", "facts", "facts_file", "as_of", "known_at", "versions"):
            problems.append(src.diag((key,), f"unknown key '{key}' in a case", key=True))
    if ("facts" in d) == ("facts_file" in d):
        problems.append(src.diag((), "a case needs exactly one of 'facts' or 'facts_file'"))
    if not isinstance(d.get("versions"), dict) or not d["versions"]:
        problems.append(src.diag(("versions",), "a case needs 'versions': expected results by version id"))
    for version, entry in (d.get("versions") or {}).items() if isinstance(d.get("versions"), dict) else ():
        at = ("versions", version)
        if not isinstance(entry, dict) or not entry:
            problems.append(src.diag(at, f"version '{version}' needs what to expect: result and/or warnings"))
            continue
        for key in entry:
            if key not in ("result", "warnings"):
                problems.append(src.diag(at + (key,), f"unknown key '{key}'{did_you_mean(key, ['result', 'warnings'])}"
                                         "; a version's expectation has result and warnings", key=True))
        if "result" in entry and not isinstance(entry["result"], dict):
            problems.append(src.diag(at + ("result",), "result: expected a mapping of result keys to values"))
        if "warnings" in entry and not isinstance(entry["warnings"], list):
            problems.append(src.diag(at + ("warnings",), "warnings: expected a list of warning codes"))
    facts = d.get("facts")
    if "facts_file" in d:
        if not isinstance(d["facts_file"], str):
            problems.append(src.diag(("facts_file",), "facts_file: expected a file name"))
        else:
            try:
                facts = (path.parent / d["facts_file"]).read_bytes()
            except OSError as exc:
                problems.append(src.diag(("facts_file",), f"cannot read {d['facts_file']}: {exc.strerror}"))
    if problems:
        raise RuleError(problems)
    return Case(policy, path.stem, path, d.get("description", ""), facts, d.get("as_of"),
                d.get("known_at", FIXED_KNOWN_AT), d["versions"])


def _compare(expected, actual, where: str, problems: list):
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            problems.append(f"{where}: expected an object, found {actual!r}")
            return
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{where}.{key}: missing from the result")
            else:
                _compare(value, actual[key], f"{where}.{key}", problems)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            problems.append(f"{where}: expected {len(expected)} items, found {actual!r}")
            return
        for i, (e, a) in enumerate(zip(expected, actual)):
            _compare(e, a, f"{where}[{i}]", problems)
    else:
        want = format(expected, "f") if isinstance(expected, Decimal) else expected
        if isinstance(want, int) and not isinstance(want, bool) and isinstance(actual, str):
            want = str(want)
        if want != actual:
            problems.append(f"{where}: expected {want!r}, found {actual!r}")


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


def run_all(rules: RuleSet, policies=None) -> list[Outcome]:
    return [run_case(rules, case, str(v)) for case in load_cases(rules, policies) for v in case.expect]


__all__ = ["Case", "Outcome", "load_cases", "run_case", "run_all", "FIXED_KNOWN_AT", "Diagnostic"]
