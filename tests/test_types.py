"""Static types on a made-up policy: typed keys and cases decide correctly, null-safety by
narrowing, inputs typed from the facts schema, and the type algebra itself."""
import json
import textwrap
from decimal import Decimal

import pytest

from engine import RuleError, load_rules
from engine import types as T

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "additionalProperties": False, "required": ["member", "tier", "ratio", "colour"],
    "properties": {
        "member": {"type": "boolean"},
        "tier": {"type": "integer", "minimum": 0, "maximum": 3},
        "ratio": {"anyOf": [{"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$"}, {"type": "number"}]},
        "colour": {"enum": ["red", "green"]},
        "label": {"type": "string"},
        "bonus": {"anyOf": [{"type": "string", "pattern": "^[0-9]+$"}, {"type": "number"}]},
    },
}

RULE = """\
policy: typed
version: v1
title: A test policy for types
source: {document: made up for the tests, date: "2020-01-01"}
published: "2020-01-01T00:00:00Z"
effective_from: "2020-01-01"
facts_schema: typed.facts.json
tables:
  fee_by_membership:
    inputs: [member]
    outputs: [fee]
    rows:
      - [true, 1]
      - [false, 5]
  discount_by_tier:
    inputs: [tier]
    outputs: [discount]
    default: 0
    rows:
      - [1, 0.1]
      - [2, 0.2]
  factor_by_ratio:
    inputs: [ratio]
    outputs: [factor]
    default: 1
    rows:
      - [1.5, 3]
  greeting_by_membership:
    inputs: [member]
    outputs: [greeting]
    rows:
      - [true, welcome back]
      - [false, hello]
inputs:
  member: {path: member}
  tier: {path: tier}
  ratio: {path: ratio}
  colour: {path: colour}
  bonus: {path: bonus}
formulas:
  greeting: greeting_by_membership(member)
  fee: fee_by_membership(member)
  discount: discount_by_tier(tier)
  factor: factor_by_ratio(ratio)
  has_bonus: bonus != None
  with_bonus: fee + bonus if has_bonus else fee
  doubled_bonus: "0 if not has_bonus else bonus * 2"
  warm: colour == "red"
result:
  greeting: greeting
  fee: fee
  discount: discount
  factor: factor
  with_bonus: with_bonus
  doubled_bonus: doubled_bonus
  warm: warm
"""


def make(tmp_path, text=RULE):
    (tmp_path / "rules" / "typed").mkdir(parents=True, exist_ok=True)
    (tmp_path / "schemas").mkdir(exist_ok=True)
    (tmp_path / "schemas" / "typed.facts.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "rules" / "typed" / "v1.yaml").write_text(textwrap.dedent(text))
    return load_rules(tmp_path / "rules")


def refused(tmp_path, old, new) -> list[str]:
    assert old in RULE, old
    with pytest.raises(RuleError) as e:
        make(tmp_path, RULE.replace(old, new))
    return [d.message for d in e.value.diagnostics]


def decide(rules, **facts):
    base = {"member": True, "tier": 1, "ratio": "1.50", "colour": "green"}
    return rules.evaluate("typed", {**base, **facts}, as_of="2021-01-01").result


def test_boolean_columns_take_the_right_row(tmp_path):
    rules = make(tmp_path)
    assert decide(rules, member=True)["greeting"] == "welcome back"
    assert decide(rules, member=False)["greeting"] == "hello"
    assert decide(rules, member=True)["fee"] == Decimal(1)
    assert decide(rules, member=False)["fee"] == Decimal(5)


def test_integer_and_decimal_cells_match_by_value(tmp_path):
    rules = make(tmp_path)
    assert [decide(rules, tier=t)["discount"] for t in (0, 1, 2, 3)] == [0, Decimal("0.1"), Decimal("0.2"), 0]
    assert decide(rules, ratio="1.50")["factor"] == 3     # 1.50 is the key 1.5
    assert decide(rules, ratio="1.5")["factor"] == 3
    assert decide(rules, ratio="15")["factor"] == 1       # not the text "1.5" minus its point


def test_a_guard_formula_makes_an_optional_input_a_value(tmp_path):
    rules = make(tmp_path)
    assert decide(rules, bonus="7")["with_bonus"] == Decimal(8)
    assert decide(rules)["with_bonus"] == Decimal(1)
    assert decide(rules, bonus="7")["doubled_bonus"] == Decimal(14)
    assert decide(rules)["doubled_bonus"] == 0


def test_inputs_take_their_types_from_the_facts_schema(tmp_path):
    version = make(tmp_path).versions("typed")[0]
    inputs = {i.name: T.show(i.type) for i in version.root.inputs.values()}
    assert inputs == {"member": "boolean", "tier": "integer", "ratio": "decimal", "colour": "text {green, red}",
                      "bonus": "optional decimal"}


def test_the_issue_s_faults_are_load_errors(tmp_path):
    assert refused(tmp_path, "member: {path: member}", "member: {path: member, type: decimal}") == [
        "input 'member' is declared decimal, but the facts schema says boolean"]
    assert refused(tmp_path, '  warm: colour == "red"', "  warm: contains(colour)") == [
        "formula 'warm': contains() takes 2 arguments, found 1: contains(list of E, E)"]
    assert refused(tmp_path, "with_bonus: fee + bonus if has_bonus else fee", "with_bonus: fee + bonus") == [
        "formula 'with_bonus': '+' needs a number, but 'bonus' (optional decimal) can be null; test it first "
        "(bonus != None and ...)"]


def test_cells_and_completeness(tmp_path):
    assert refused(tmp_path, "      - [true, 1]\n      - [false, 5]\n", "      - [true, 1]\n") == [
        "table 'fee_by_membership' has no row for member false: add rows, a catch-all row (- in every column), or a "
        "default"]
    assert refused(tmp_path, "      - [1, 0.1]\n", "      - [one, 0.1]\n") == [
        "table 'discount_by_tier' column 'tier': 'one' is not a number or a number parameter"]
    assert refused(tmp_path, "      - [false, hello]\n", "      - [false, hello]\n      - [false, again]\n") == [
        "table 'greeting_by_membership': rows 2 and 3 both match member false; a unique table's rows must not "
        "overlap (or make it hit: first)"]


def test_an_open_text_column_needs_a_catch_all_or_a_default(tmp_path):
    text = RULE.replace("  bonus: {path: bonus}\n", "  bonus: {path: bonus}\n  label: {path: label, default: x}\n")
    text = text.replace("tables:\n", "tables:\n  short_label:\n    hit: first\n    inputs: [label]\n"
                                      "    outputs: [short]\n    rows:\n      - [x, 1]\n", 1)
    text = text.replace("  warm: colour == \"red\"\n", "  warm: colour == \"red\"\n  short: short_label(label)\n")
    with pytest.raises(RuleError) as e:
        make(tmp_path, text)
    assert [d.message for d in e.value.diagnostics] == [
        "table 'short_label' has no row for label other than \"x\": add rows, a catch-all row (- in every column), "
        "or a default"]
    make(tmp_path, text.replace("      - [x, 1]\n", "      - [x, 1]\n      - [-, 0]\n"))


@pytest.mark.parametrize("text, shown", [
    ("decimal", "decimal"), ("string", "text"), ("optional month", "optional month"),
    ("list of text", "list of text"), ("map of text to list of decimal", "map of text to list of decimal"),
    ("optional map of text to decimal", "optional map of text to decimal"),
])
def test_type_names_read_and_written_alike(text, shown):
    assert T.show(T.parse(text)) == shown


def test_joins():
    assert T.join(T.INTEGER, T.DECIMAL) == T.DECIMAL
    assert T.join(T.DECIMAL, T.NULL) == T.optional(T.DECIMAL)
    assert T.join(T.text_of("a"), T.text_of("b")) == T.text_of("a", "b")
    assert T.join(T.text_of("a"), T.TEXT) == T.TEXT
    assert T.join(T.list_of(T.NOTHING), T.list_of(T.TEXT)) == T.list_of(T.TEXT)
    assert T.join(T.DECIMAL, T.TEXT) is None
    assert T.join(T.BOOLEAN, T.DECIMAL) is None
    assert T.accepts(T.DECIMAL, T.INTEGER) and not T.accepts(T.INTEGER, T.DECIMAL)
    assert not T.accepts(T.DECIMAL, T.optional(T.DECIMAL))


def test_a_month_compares_with_a_month_written_as_text(tmp_path):
    import shutil
    from conftest import ROOT
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    rule = tmp_path / "rules" / "msa-fee" / "2024-06-11.yaml"
    rule.write_text(rule.read_text().replace("  fee: maintenance_fee + trading_fee",
                                             '  fee: maintenance_fee + trading_fee if month >= "2024-07" else 0'))
    facts = (ROOT / "rules/msa-fee/cases/february-three-accounts.facts.json").read_text()
    assert str(load_rules(tmp_path / "rules").evaluate("msa-fee", facts, version="2024-06-11").result["fee"]) == "4360.00"
    rule.write_text(rule.read_text().replace('month >= "2024-07"', 'month >= "2024-7"'))
    with pytest.raises(RuleError) as e:
        load_rules(tmp_path / "rules")
    assert "'>=' compares 'month' (month) with \"2024-7\"" in str(e.value)


@pytest.mark.parametrize("text, hint", [
    ("100k", "a number is written in full and without quotes, 100000"),
    ("50 USDT", "a number is written alone, without quotes; its unit goes under unit:"),
    ("0.1%", "a percentage is written as a fraction, without quotes: 0.1% is 0.001"),
    ("1,000", "a number is written without quotes or separators, 1000"),
    ("7", "a number is written without quotes"),
    ("2024-06-01", None),      # a date, not a number with a unit
    ("1e-3", None),
    ("gold", None),
])
def test_a_text_parameter_used_as_a_number_says_how_to_write_it(text, hint):
    from engine.compile.model import Parameter
    from engine.compile.typer import _text_parameter
    shown = _text_parameter(Parameter("p", text, None, None, None, "f.yaml:23:5"))
    assert shown == f'the text "{text}"' + (f", line 23: {hint}" if hint else "")


def test_a_declared_decimal_keeps_the_schema_s_bounds(tmp_path):
    import json
    from engine.types import DECIMAL
    from engine.check.schema import value_type
    assert value_type({"type": "integer", "minimum": 0, "maximum": 9}, {}).bounds == (0, 9)
    assert value_type({"type": "number", "exclusiveMinimum": 0}, {}).bounds == (None, None)   # no inclusive form
    assert value_type({"type": "integer", "exclusiveMinimum": -1, "exclusiveMaximum": 10}, {}).bounds == (0, 9)
    assert DECIMAL.bounds is None   # a computed number: nothing known
    (tmp_path / "rules" / "p").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "p.facts.json").write_text(json.dumps(
        {"type": "object", "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 9},
                                          "w": True}}))
    rule = """\
policy: p
version: v1
title: t
source: {document: made up for the tests, date: "2020-01-01"}
published: "2020-01-01T00:00:00Z"
effective_from: "2020-01-01"
facts_schema: p.facts.json
tables:
  band: {inputs: [level], outputs: [b], rows: [["[0..4.5)", low], ["[4.5..9]", high]]}
inputs:
  level: {path: level, type: decimal, default: 0}
formulas:
  b: band(level)
result:
  b: b
"""
    (tmp_path / "rules" / "p" / "v1.yaml").write_text(rule)
    assert load_rules(tmp_path / "rules").evaluate("p", {"level": 9}, as_of="2021-01-01").result == {"b": "high"}
    # a path under a boolean subschema is reported, not a crash
    (tmp_path / "rules" / "p" / "v1.yaml").write_text(rule.replace("  level: {path: level, type: decimal, default: 0}",
                                                                    "  level: {path: w.x}"))
    with pytest.raises(RuleError, match="the facts schema has no 'w.x'"):
        load_rules(tmp_path / "rules")
