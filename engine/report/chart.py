"""Chart files (rules/<policy>/charts/<name>.yaml, schemas/chart-file.schema.json): a result
drawn against another for two versions, the facts of a file scaled so that the x result
runs over a range. Loading a chart checks everything that can be known without drawing it:
the schema, the facts file and its fit to every version's facts schema, the axes as
result values of every version, and numbers at the scaled path."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..check import facts as facts_check
from ..check import schema as schemacheck
from ..errors import Diagnostic, FactsError, PolicyError, RuleError, did_you_mean
from ..load import jsonfacts, layout
from ..load.yamlfile import load_yaml
from ..run.ruleset import RuleSet, _display, shipped_dir
from .svgchart import line_chart


@dataclass(frozen=True)
class Chart:
    path: Path
    title: str | None
    facts: dict
    facts_file: str
    scale: str
    x_axis: str
    y_axis: str
    x_from: Decimal
    x_to: Decimal
    points: int


def chart_files(rules: RuleSet, policy: str) -> list[Path]:
    return layout.chart_files(rules.root, policy)


def load_charts(rules: RuleSet, policies=None) -> list[Chart]:
    """Every chart of the policies given (default: all); RuleError listing every problem."""
    validator = schemacheck.validator_for(schemacheck.load_schema(shipped_dir("schemas") / "chart-file.schema.json"))
    charts, errors = [], []
    for policy in sorted(policies or rules.policies):
        for path in chart_files(rules, policy):
            try:
                charts.append(load_chart(rules, policy, path, validator))
            except PolicyError as exc:
                errors.extend(exc.diagnostics)
    if errors:
        raise RuleError(errors)
    return charts


def load_chart(rules: RuleSet, policy: str, path: Path, validator=None) -> Chart:
    if validator is None:
        validator = schemacheck.validator_for(schemacheck.load_schema(shipped_dir("schemas") / "chart-file.schema.json"))
    src = load_yaml(path.read_bytes(), _display(path))
    d = src.data
    if not isinstance(d, dict):
        raise RuleError(src.diag((), "a chart is a mapping: facts_file, scale, x_axis, y_axis, x_from, x_to"))
    problems = [src.diag(at, message, key) for at, message, key in schemacheck.explain(validator, d)]
    if problems:
        raise RuleError(problems)
    file = path.parent / d["facts_file"]
    try:
        facts = jsonfacts.parse_json(file.read_bytes(), _display(file))
    except OSError as exc:
        raise RuleError(src.diag(("facts_file",), f"cannot read {d['facts_file']}: {exc.strerror}")) from None
    except FactsError as exc:
        raise RuleError(exc.diagnostics) from None
    lo, hi = Decimal(str(d["x_from"])), Decimal(str(d["x_to"]))
    if lo >= hi:
        problems.append(src.diag(("x_to",), f"x_to must be above x_from ({d['x_from']})"))
    for axis in ("x_axis", "y_axis"):
        lacking = [v for v in rules.versions(policy) if d[axis] not in _values(v)]
        if lacking:
            there = sorted(set.intersection(*(_values(v) for v in rules.versions(policy))))
            problems.append(src.diag((axis,), f"'{d[axis]}' is not a top-level value of the result of "
                                              f"{', '.join(v.version for v in lacking)}{did_you_mean(d[axis], there)} "
                                              f"(values of every version: {', '.join(there) or 'none'})"))
    for version in rules.versions(policy):
        if isinstance(facts, dict):
            problems += [Diagnostic(_display(file), message, schemacheck.json_path(at))
                         for at, message in facts_check.problems(version, facts)]
    found = _values_at(facts, d["scale"])
    if not found:
        problems.append(src.diag(("scale",), f"no value at {d['scale']} in {d['facts_file']}: nothing would be scaled"))
    bad = [v for v in found if _number(v) is None]
    if bad:
        problems.append(src.diag(("scale",), f"{d['scale']} must hold numbers, found {schemacheck.show(bad[0])}"))
    if problems:
        raise RuleError(problems)
    return Chart(path, d.get("title"), facts, d["facts_file"], d["scale"], d["x_axis"], d["y_axis"], lo, hi,
                 int(d.get("points", 41)))


def _values(version) -> set:
    return {f.key for f in version.result if f.kind == "value"}


def _number(value):
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value)) if isinstance(value, (int, Decimal, str)) else None
    except InvalidOperation:
        return None


def _walk(node, parts, found: list, replace=None):
    """Visit every value at the path ('a', '[]', 'b', ...): collect it, or replace it."""
    if not parts:
        return
    part, rest = parts[0], parts[1:]
    if part == "[]":
        for i, x in enumerate(node if isinstance(node, list) else ()):
            if rest:
                _walk(x, rest, found, replace)
            else:
                found.append(x)
                if replace is not None:
                    node[i] = replace(x)
    elif isinstance(node, dict) and part in node:
        if rest:
            _walk(node[part], rest, found, replace)
        else:
            found.append(node[part])
            if replace is not None:
                node[part] = replace(node[part])


def _parts(path: str) -> list[str]:
    return path.replace("[]", ".[]").split(".")


def _values_at(facts, path: str) -> list:
    found: list = []
    _walk(facts, _parts(path), found)
    return found


def _scaled(facts, path: str, factor: Decimal):
    """A copy of facts with every value at path multiplied by factor."""
    out = copy.deepcopy(facts)
    _walk(out, _parts(path), [], lambda v: format(_number(v) * factor, "f"))
    return out


def series(rules: RuleSet, policy: str, versions: list[str], spec: Chart) -> dict:
    """version -> [(x, y)] over the chart's points."""
    x0 = Decimal(str(rules.evaluate(policy, spec.facts, version=versions[-1]).result[spec.x_axis]))
    out = {v: [] for v in versions}
    for i in range(spec.points):
        target = spec.x_from + (spec.x_to - spec.x_from) * i / (spec.points - 1)
        facts = _scaled(spec.facts, spec.scale, target / x0 if x0 else Decimal(0))
        for v in versions:
            r = rules.evaluate(policy, facts, version=v).result
            out[v].append((Decimal(str(r[spec.x_axis])), Decimal(str(r[spec.y_axis]))))
    return out


def chart(rules: RuleSet, policy: str, versions: list[str], path: Path):
    """(svg, caption): the chart file's y against x, one line per version."""
    spec = load_chart(rules, policy, path)
    caption = (spec.title or f"{spec.y_axis} against {spec.x_axis}") + f" ({spec.facts_file}, {spec.scale} scaled)"
    return line_chart(series(rules, policy, versions, spec), spec.x_axis, spec.y_axis), caption


__all__ = ["Chart", "chart", "chart_files", "load_chart", "load_charts", "series"]
