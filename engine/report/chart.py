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
from ..errors import Diagnostic, PolicyError, RuleError, did_you_mean
from ..load import layout
from ..load.yamlfile import load_yaml
from ..run.cases import facts_file
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
    x_unit: str | None = None
    y_unit: str | None = None


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
    file, facts = facts_file(src, path, d["facts_file"])
    lo, hi = Decimal(str(d["x_from"])), Decimal(str(d["x_to"]))
    if lo >= hi:
        problems.append(src.diag(("x_to",), f"x_to must be above x_from ({d['x_from']})"))
    for axis in ("x_axis", "y_axis"):
        lacking = [v for v in rules.versions(policy) if d[axis] not in _values(v)]
        there = sorted(set.intersection(*(_values(v) for v in rules.versions(policy))))
        if lacking:
            problems.append(src.diag((axis,), f"'{d[axis]}' is not a top-level number of the result of "
                                              f"{', '.join(v.version for v in lacking)}{did_you_mean(d[axis], there)} "
                                              f"(numbers of every version: {', '.join(there) or 'none'})"))
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
    for version in rules.versions(policy):   # scaled, a whole number would become a fraction
        node = schemacheck.node_at(version.facts_validator.schema, tuple(_parts(d["scale"])))
        t = schemacheck.value_type(node, version.facts_validator.schema) if node is not None else None
        if t is not None and t.kind == "integer":
            problems.append(src.diag(("scale",), f"{d['scale']} holds whole numbers (the facts schema of "
                                                 f"{version.version}); scaled, they would not be: scale decimals"))
            break
    if problems:
        raise RuleError(problems)
    spec = Chart(path, d.get("title"), facts, d["facts_file"], d["scale"], d["x_axis"], d["y_axis"], lo, hi,
                 int(d.get("points", 41)), d.get("x_unit"), d.get("y_unit"))
    problems = _ends(rules, policy, spec, src)   # the facts at both ends of the range, against every version
    if problems:
        raise RuleError(problems)
    return spec


def _ends(rules, policy, spec: Chart, src) -> list:
    """The chart's first and last points: their scaled facts must be valid facts, and both
    axes numbers, under every version (otherwise `policy diff` would fail halfway)."""
    problems = []
    for key, target in (("x_from", spec.x_from), ("x_to", spec.x_to)):
        try:
            for version, result in _point(rules, policy, spec, target):
                for axis in ("x_axis", "y_axis"):
                    value = result[getattr(spec, axis)]
                    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
                        problems.append(src.diag((axis,), f"'{getattr(spec, axis)}' is {schemacheck.show(value)} in "
                                                          f"version {version}'s result: a chart draws numbers"))
                        return problems
        except PolicyError as exc:
            d = exc.diagnostics[0]
            problems.append(src.diag((key,), f"at {spec.x_axis} = {target}, version {exc.version}: "
                                             f"{(d.path + ': ') if d.path else ''}{d.message}"))
    return problems


def _point(rules, policy, spec: Chart, target: Decimal):
    """(version, result) of each version for the facts scaled so that x_axis is target. A
    PolicyError carries the version it came from."""
    versions = [v.version for v in rules.versions(policy)]
    version = versions[-1]
    try:
        x0 = rules.evaluate(policy, spec.facts, version=version).result[spec.x_axis]
        x0 = _number(x0) if not isinstance(x0, bool) else None
        if x0 is None:
            raise PolicyError(f"'{spec.x_axis}' is not a number in the result")
        facts = _scaled(spec.facts, spec.scale, target / x0 if x0 else Decimal(0))
        out = []
        for version in versions:
            out.append((version, rules.evaluate(policy, facts, version=version).result))
        return out
    except PolicyError as exc:
        exc.version = version
        raise


def _values(version) -> set:
    """The top-level result keys that hold numbers (or whose type is not known)."""
    def number(f):
        t = version.result_types.get(id(f))
        return t is None or t.kind in ("decimal", "integer", "any")
    return {f.key for f in version.result if f.kind == "value" and number(f)}


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
    """A copy of facts with every value at path multiplied by factor, written as it was (a
    number stays a number, text stays text)."""
    out = copy.deepcopy(facts)
    _walk(out, _parts(path), [], lambda v: format(_number(v) * factor, "f") if isinstance(v, str) else _number(v) * factor)
    return out


REFINE_DEPTH = 12   # halvings of a sampled interval where the line is not straight (a step)
STRAIGHT = 400      # a middle within 1/400 of the chart's height of the straight line is on it


def series(rules: RuleSet, policy: str, versions: list[str], spec: Chart) -> dict:
    """version -> [(x, y)] over the chart's points, with more points where a line between two
    samples would not be straight: an interval whose middle is off the straight line is
    halved, up to REFINE_DEPTH times, so a jump is drawn as a step (near-vertical) where it
    is, not as a slope across the whole interval. A point the rules cannot decide is a
    RuleError naming the chart file and the point."""
    x0 = Decimal(str(rules.evaluate(policy, spec.facts, version=versions[-1]).result[spec.x_axis]))

    def point(v, target):
        facts = _scaled(spec.facts, spec.scale, target / x0 if x0 else Decimal(0))
        try:
            r = rules.evaluate(policy, facts, version=v).result
            return Decimal(str(r[spec.x_axis])), Decimal(str(r[spec.y_axis]))
        except (PolicyError, ArithmeticError) as exc:
            shown = exc.diagnostics[0] if isinstance(exc, PolicyError) else exc
            raise RuleError(Diagnostic(_display(spec.path), f"the point {spec.x_axis} = {target} under {v} "
                                                            f"cannot be drawn: {shown}")) from None

    targets = [spec.x_from + (spec.x_to - spec.x_from) * i / (spec.points - 1) for i in range(spec.points)]
    out = {}
    for v in versions:
        sampled = [(t, point(v, t)) for t in targets]
        ys = [p[1] for _, p in sampled]
        tolerance = (max(ys) - min(ys)) / STRAIGHT or Decimal("0.01")

        def refined(a, b, depth):
            (ta, pa), (tb, pb) = a, b
            if depth == 0:
                return []
            tm = (ta + tb) / 2
            pm = point(v, tm)
            if abs(pm[1] - (pa[1] + pb[1]) / 2) <= tolerance:
                return []
            m = (tm, pm)
            return refined(a, m, depth - 1) + [m] + refined(m, b, depth - 1)
        points = [sampled[0]]
        for a, b in zip(sampled, sampled[1:]):
            points += refined(a, b, REFINE_DEPTH) + [b]
        out[v] = [p for _, p in points]
    return out


def chart(rules: RuleSet, policy: str, versions: list[str], path: Path):
    """(svg, caption): the chart file's y against x, one line per version."""
    spec = load_chart(rules, policy, path)
    caption = (spec.title or f"{spec.y_axis} against {spec.x_axis}") + f" ({spec.facts_file}, {spec.scale} scaled)"
    return line_chart(series(rules, policy, versions, spec), _axis(spec.x_axis, spec.x_unit),
                      _axis(spec.y_axis, spec.y_unit)), caption


def _axis(name: str, unit: str | None) -> str:
    return f"{name.replace('_', ' ')} ({unit})" if unit else name.replace("_", " ")


__all__ = ["Chart", "chart", "chart_files", "load_chart", "load_charts", "series"]
