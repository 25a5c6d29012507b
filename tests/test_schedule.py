"""Facts before formulas: a condition of severity `facts` is checked before any formula
that reads the same inputs, so bad facts are reported as bad facts (exit 2, with their
JSON path), never as a formula failing in the rule file (exit 4)."""
import json
import textwrap

import pytest

from engine import EvaluationError, FactsError, load_rules
from engine.cli.main import main

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "additionalProperties": False, "required": ["total", "parts"],
    "properties": {
        "total": {"anyOf": [{"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}, {"type": "number"}]},
        "parts": {"type": "array", "items": {
            "type": "object", "required": ["name", "units"], "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "units": {"type": "integer"}}}},
    },
}

RULE = """\
policy: shares
version: v1
title: Shares of a total (a test policy)
source: {document: made up for the tests, date: "2020-01-01"}
published: "2020-01-01T00:00:00Z"
effective_from: "2020-01-01"
facts_schema: shares.facts.json
inputs:
  total: {path: total}
collections:
  parts:
    path: parts
    key: name
    inputs:
      units: {path: units}
    formulas:
      # no guard: the facts condition below speaks first when units is 0
      share: total / units
formulas:
  counted: sum(parts.units)
  per_unit: total / counted
conditions:
  - code: EMPTY_PART
    for_each: parts
    when: units == 0
    severity: facts
    message: "part {name} has no units"
  - code: NOTHING_COUNTED
    when: counted == 0
    severity: facts
    path: parts
    message: the parts count nothing
  - code: NEGATIVE_TOTAL
    when: total < 0
    severity: facts
    path: total
    message: "the total {total} is negative"
result:
  per_unit: per_unit
  parts: {for_each: parts, fields: {name: name, share: share}}
"""


@pytest.fixture()
def rules(tmp_path):
    (tmp_path / "rules" / "shares").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "shares.facts.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "rules" / "shares" / "v1.yaml").write_text(textwrap.dedent(RULE))
    return load_rules(tmp_path / "rules")


def errors(rules, facts):
    with pytest.raises(FactsError) as e:
        rules.evaluate("shares", facts, as_of="2021-01-01")
    return [(d.path, d.message) for d in e.value.diagnostics]


def test_a_facts_problem_is_bad_facts_not_a_division_by_zero(rules):
    assert errors(rules, {"total": "10", "parts": [{"name": "a", "units": 2}, {"name": "b", "units": 0}]}) == [
        ("parts[1]", "part b has no units")]


def test_every_facts_problem_is_reported_at_once(rules):
    # the per-item check and the top-level check on the raw input run before any formula;
    # the one that needs a formula (counted) runs after it, and reports too
    assert errors(rules, {"total": "-1", "parts": [{"name": "a", "units": 0}]}) == [
        ("parts[0]", "part a has no units"), ("total", "the total -1 is negative")]
    assert errors(rules, {"total": "5", "parts": []}) == [("parts", "the parts count nothing")]


def test_good_facts_decide(rules):
    d = rules.evaluate("shares", {"total": "10", "parts": [{"name": "a", "units": 4}, {"name": "b", "units": 1}]},
                       as_of="2021-01-01")
    assert d.result["per_unit"] == 2
    assert [p["share"] for p in d.result["parts"]] == [pytest.approx(2.5), 10]
    # the trace is in dependency order, whatever order the checks made the formulas run in
    assert [e["name"] for e in d.trace] == ["share", "share", "counted", "per_unit"]


def test_the_schedule_puts_facts_checks_first(rules):
    version = rules.versions("shares")[0]
    steps = [(kind, what.name if kind == "formula" else version.conditions[what].code) for kind, what in version.schedule]
    # the checks on inputs alone come before every formula; the one that needs `counted`
    # comes right after it, before `per_unit`, which reads what it checks
    assert steps[:2] == [("facts", "EMPTY_PART"), ("facts", "NEGATIVE_TOTAL")]
    assert steps[steps.index(("formula", "counted")) + 1] == ("facts", "NOTHING_COUNTED")
    assert steps[-1] == ("formula", "per_unit")
    assert sorted(steps[2:]) == [("facts", "NOTHING_COUNTED"), ("formula", "counted"), ("formula", "per_unit"),
                                 ("formula", "share")]


def test_cli_exit_2_with_the_path(rules, tmp_path, capsys):
    facts = tmp_path / "f.json"
    facts.write_text(json.dumps({"total": "10", "parts": [{"name": "b", "units": 0}]}))
    code = main(["eval", "shares", "--facts", str(facts), "--rules", str(tmp_path / "rules"), "--as-of", "2021-01-01"])
    assert code == 2
    assert capsys.readouterr().err == f"{facts}: parts[0]: part b has no units\n"


def test_without_the_check_the_rules_are_at_fault(tmp_path):
    (tmp_path / "rules" / "shares").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "shares.facts.json").write_text(json.dumps(SCHEMA))
    text = textwrap.dedent(RULE)
    text = text[:text.index("  - code: EMPTY_PART")] + text[text.index("  - code: NOTHING_COUNTED"):]
    (tmp_path / "rules" / "shares" / "v1.yaml").write_text(text)
    with pytest.raises(EvaluationError) as e:
        load_rules(tmp_path / "rules").evaluate("shares", {"total": "1", "parts": [{"name": "a", "units": 1},
                                                                                  {"name": "b", "units": 0}]},
                                                as_of="2021-01-01")
    assert e.value.exit_code == 4 and e.value.reason == "arithmetic"
    assert "formula 'share' for parts[b]: division by zero" in str(e.value)


def test_a_division_by_zero_names_the_value_that_is_0(tmp_path):
    (tmp_path / "rules" / "shares").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "shares.facts.json").write_text(json.dumps(SCHEMA))
    text = textwrap.dedent(RULE)
    text = text[:text.index("  - code: EMPTY_PART")] + text[text.index("  - code: NOTHING_COUNTED"):]
    (tmp_path / "rules" / "shares" / "v1.yaml").write_text(text)
    with pytest.raises(EvaluationError) as e:
        load_rules(tmp_path / "rules").evaluate("shares", {"total": "1", "parts": [{"name": "a", "units": 1},
                                                                                  {"name": "b", "units": 0}]},
                                                as_of="2021-01-01")
    assert str(e.value).endswith("formula 'share' for parts[b]: division by zero (units is 0)")
