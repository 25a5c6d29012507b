"""Trusted rules: a rule set that validates never fails a decision for a reason known at
load. Shipped rule files are mutated the way an editor's slip changes them (a name for
another, a number quoted, an operator, a function, an argument, a declared type, a format
spec, a map key or a switch case); whatever `validate` accepts must decide every shipped
case of its policy with a decision, or with bad facts (a condition of severity facts), or
with an evaluation error that only the facts' values could cause (a division by zero, an
empty list): never a failure of the kind of a value."""
import random
import re
import shutil

from hypothesis import HealthCheck, given, settings, strategies as st

from engine import EvaluationError, FactsError, PolicyError, load_rules
from engine.run.cases import load_cases
from engine.compile.functions import FUNCTIONS

from conftest import ROOT

RULE_FILES = sorted(p for p in (ROOT / "rules").glob("*/*.yaml") if not p.parent.name.startswith("_"))
CASES = {p.parent.name: p.parent / "cases" for p in RULE_FILES}
IDENT = re.compile(r"(?<![A-Za-z0-9_.'\"])[a-z_][a-z0-9_]*(?![A-Za-z0-9_'\"(])")
NUMBER = re.compile(r"(?<![A-Za-z0-9_.])[0-9]+(\.[0-9]+)?(?![A-Za-z0-9_])")
OPERATORS = [" + ", " - ", " * ", " / ", " < ", " > ", " <= ", " >= ", " == ", " != ", " and ", " or "]
LITERALS = ['"x"', "'0'", "true", "false", "None", "0", "1", "0.5", '"2024-07"', '"normal"']
TYPES = ["decimal", "integer", "boolean", "text", "date", "month", "list of text", "optional decimal", "map of text to decimal"]


def names_in(text: str) -> list[str]:
    """Names defined in the file (keys of parameters, inputs, formulas, ...), and the functions."""
    keys = re.findall(r"^\s*([a-z_][a-z0-9_]*):", text, re.M)
    return sorted(set(keys) | set(FUNCTIONS))


APPLIES = {   # where each kind of slip can happen: the value part of a line
    "name": lambda k, v: IDENT.search(v),
    "literal": lambda k, v: NUMBER.search(v) or IDENT.search(v),
    "operator": lambda k, v: any(op in v for op in OPERATORS),
    "function": lambda k, v: re.search(r"[a-z_]+\(", v),
    "argument": lambda k, v: "(" in v,
    "quote": lambda k, v: NUMBER.fullmatch(v.strip()) or v.strip().startswith("["),
    "type": lambda k, v: re.search(r"\{path: [^}]*\}", v),
    "format": lambda k, v: re.search(r"\{[a-z_]+\}", v),
    "key": lambda k, v: re.match(r"^\s+[A-Za-z_][A-Za-z0-9_]*$", k),
}


def mutate(text: str, rnd: random.Random, how: str) -> str:
    lines = text.splitlines(keepends=True)
    body = [i for i, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")
            and APPLIES[how](*line.partition(": ")[::2])]
    if not body:
        return text
    i = rnd.choice(body)
    key, sep, value = lines[i].partition(": ")
    if how == "name":
        m = rnd.choice(list(IDENT.finditer(value)))
        value = value[:m.start()] + rnd.choice(names_in(text)) + value[m.end():]
    elif how == "literal":
        m = rnd.choice(list(NUMBER.finditer(value)) + list(IDENT.finditer(value)))
        value = value[:m.start()] + rnd.choice(LITERALS) + value[m.end():]
    elif how == "operator":
        value = value.replace(rnd.choice([op for op in OPERATORS if op in value]), rnd.choice(OPERATORS), 1)
    elif how == "function":
        m = rnd.choice(list(re.finditer(r"[a-z_]+(?=\()", value)))
        value = value[:m.start()] + rnd.choice(sorted(FUNCTIONS)) + value[m.end():]
    elif how == "argument":
        value = re.sub(r", [^,()]+\)", ")", value, count=1) if rnd.random() < 0.5 else \
            re.sub(r"\)", ", " + rnd.choice(LITERALS + names_in(text)) + ")", value, count=1)
    elif how == "quote":
        value = f'"{value.strip()}"\n' if NUMBER.fullmatch(value.strip()) else \
            value.replace("[", '"[', 1).replace("]", ']"', 1)
    elif how == "type":
        value = re.sub(r"(\{path: [a-z_.]+)(, type: [a-z ]+)?", r"\1, type: " + rnd.choice(TYPES), value, count=1)
    elif how == "format":
        m = rnd.choice(list(re.finditer(r"\{([a-z_]+)\}", value)))
        value = value[:m.start()] + "{" + m.group(1) + rnd.choice([":.2f", ":,", ":d", ":%", ":>10"]) + "}" + \
            value[m.end():]
    elif how == "key":   # a map key or switch case
        key = re.sub(r"[A-Za-z_][A-Za-z0-9_]*$", rnd.choice(["true", "false", "7", "1.5", "other", "BTC", "spot"]), key)
    lines[i] = key + sep + value
    return "".join(lines)


ALLOWED_REASONS = {"arithmetic", "data", "time_limit"}


def decide_every_case(rules, policy: str, version: str):
    for case in load_cases(rules, [policy], checked=False):   # a mutation may rename a result key
        if version not in case.expect:
            continue
        try:
            rules.evaluate(case.policy, case.facts, as_of=case.as_of, known_at=case.known_at, version=version)
        except FactsError:
            pass   # a condition of severity facts holds (a mutation may change one)
        except EvaluationError as exc:
            assert exc.reason in ALLOWED_REASONS, f"{case.name} under {version}: {exc}"
        # anything else (another PolicyError, a TypeError...) fails the test by raising


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.sampled_from(RULE_FILES), st.integers(0, 10 ** 9),
       st.sampled_from(["name", "literal", "operator", "function", "argument", "quote", "type", "format", "key"]))
def test_what_validates_decides_every_case(tmp_path_factory, path, seed, how):
    text = mutate(path.read_text(), random.Random(seed), how)
    root = tmp_path_factory.mktemp("rules")
    shutil.copytree(ROOT / "rules" / "_shared", root / "rules" / "_shared")
    shutil.copytree(path.parent, root / "rules" / path.parent.name)
    shutil.copytree(ROOT / "schemas", root / "schemas")
    (root / "rules" / path.parent.name / path.name).write_text(text)
    try:
        rules = load_rules(root / "rules")
    except PolicyError:
        return   # refused at load: the point
    decide_every_case(rules, path.parent.name, path.stem)
