"""Adding a construct is one module and its tests. tests/kinds_choices.py is a construct
written as a new one would be; registered (engine.kinds.register) and with the rule-file
schema merged as `python -m engine.kinds.schema` writes it, it works end to end with no
other change: validate (its own load check, a type error at a call, at file:line:col), a
decision (its trace entry and the explanation), render, diff and coverage."""
import json
import textwrap

import pytest

import engine.run.ruleset as ruleset
from engine import RuleError, load_rules
from engine import kinds
from engine.cli.main import main
from engine.kinds import schema as kinds_schema

import kinds_choices
from conftest import ROOT


def test_every_construct_provides_the_protocol():
    assert [k.SECTION for k in kinds.KINDS] == ["tiers", "tables"]
    for kind in kinds.KINDS:
        assert [name for name in kinds.PROTOCOL if not hasattr(kind, name)] == [], kind.__name__


def test_a_module_without_the_protocol_is_refused():
    class Half:
        __name__ = "half"
        SECTION = "halves"
    with pytest.raises(TypeError, match="half lacks WORD, CALL_KEY"):
        kinds.register(Half())


FACTS_SCHEMA = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                "required": ["level"], "additionalProperties": False,
                "properties": {"level": {"type": "integer", "minimum": 1, "maximum": 3}}}

RULE = """\
policy: medals
version: v1
title: A medal by level, with the made-up construct `choices`
source: {document: made up for the tests, date: "2020-01-01"}
published: "2020-01-01T00:00:00Z"
effective_from: "2020-01-01"
facts_schema: medals.facts.json
choices:
  medal:
    values: [gold, silver, bronze]
inputs:
  level: {path: level}
formulas:
  medal_name: medal(level)
result:
  medal: medal_name
"""


@pytest.fixture
def with_choices(tmp_path, monkeypatch):
    """The construct registered, and the rule-file schema with its parts."""
    schemas = tmp_path / "engine-schemas"
    schemas.mkdir()
    for f in (ROOT / "schemas").glob("*.json"):
        (schemas / f.name).write_bytes(f.read_bytes())
    kinds.register(kinds_choices)
    try:
        rule_schema = json.loads((schemas / "rule-file.schema.json").read_text())
        (schemas / "rule-file.schema.json").write_text(json.dumps(kinds_schema.merged(rule_schema)))
        shipped = ruleset.shipped_dir
        monkeypatch.setattr(ruleset, "shipped_dir", lambda name: schemas if name == "schemas" else shipped(name))
        (tmp_path / "rules" / "medals" / "cases").mkdir(parents=True)
        (tmp_path / "schemas").mkdir()
        (tmp_path / "schemas" / "medals.facts.json").write_text(json.dumps(FACTS_SCHEMA))
        yield tmp_path / "rules"
    finally:
        kinds.unregister(kinds_choices)


def write(rules_dir, text=RULE):
    (rules_dir / "medals" / "v1.yaml").write_text(text)


def test_a_new_construct_decides_and_explains(with_choices):
    write(with_choices)
    rules = load_rules(with_choices)
    d = rules.evaluate("medals", {"level": 2}, as_of="2021-01-01")
    assert d.result == {"medal": "silver"}   # the second of gold, silver, bronze
    [entry] = [e for e in d.to_dict()["trace"] if e["name"] == "medal_name"]
    assert entry["calls"] == [{"choices": "medal", "n": 2}]
    assert "      choices medal: value 2" in d.to_text()
    assert d.reached == frozenset({("medal", 2)})


def test_a_new_construct_is_checked_when_the_rules_load(with_choices):
    write(with_choices, RULE.replace("values: [gold, silver, bronze]", "values: [gold, 2, bronze]")
          .replace("medal(level)", 'medal("first")'))
    with pytest.raises(RuleError) as e:
        load_rules(with_choices)
    lines = [str(d).split("v1.yaml:", 1)[1] for d in e.value.diagnostics]
    assert lines == ["10:13: choices 'medal': values of one kind, found int, str",
                     "14:15: formula 'medal_name': medal(): choices 'medal' take one whole number, found text \"first\""]
    write(with_choices, RULE.replace("    values: [gold, silver, bronze]", "    valuez: [gold]"))
    with pytest.raises(RuleError, match="unknown key 'valuez'; did you mean 'values'"):
        load_rules(with_choices)


def test_a_new_construct_in_render_diff_and_coverage(with_choices, capsys):
    write(with_choices)
    (with_choices / "medals" / "v2.yaml").write_text(RULE.replace("version: v1", "version: v2")
                                                     .replace('"2020-01-01T00:00:00Z"', '"2020-06-01T00:00:00Z"')
                                                     .replace("[gold, silver, bronze]", "[gold, silver, bronze, iron]"))
    (with_choices / "medals" / "cases" / "second.yaml").write_text(textwrap.dedent("""\
        description: level 2 is silver under both versions
        facts: {level: 2}
        as_of: "2021-01-01"
        versions:
          v1: {result: {medal: silver}}
          v2: {result: {medal: silver}}
        """))
    assert main(["render", "medals", "--version", "v2", "--rules", str(with_choices)]) == 0
    out = capsys.readouterr().out
    assert "Choices medal" in out and "gold, silver, bronze, iron" in out
    assert main(["diff", "medals", "v1", "v2", "--rules", str(with_choices)]) == 0
    out = capsys.readouterr().out
    assert "choices" in out and "gold, silver, bronze, iron" in out
    assert main(["test", "--coverage", "--rules", str(with_choices)]) == 0
    out = capsys.readouterr().out
    assert "not reached: choice medal value 1" in out and "not reached: choice medal value 4" in out
    assert "not reached: choice medal value 2" not in out
