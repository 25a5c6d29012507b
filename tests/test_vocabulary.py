"""The generic vocabulary on a made-up policy (nothing here is an exchange product):
parameters, marginal and lookup tiers, formulas out of written order, per-item
aggregation, conditions with codes, rounding modes, and the load-time checks."""
import json
from decimal import Decimal
import textwrap

import pytest

from engine import EvaluationError, FactsError, RuleError, load_rules

FACTS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "additionalProperties": False, "required": ["orders"],
    "properties": {
        "region": {"type": "string"},
        "orders": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["ref", "lines"],
            "properties": {
                "ref": {"type": "string"},
                "lines": {"type": "array", "items": {
                    "type": "object", "additionalProperties": False,
                    "properties": {"qty": {"type": "integer", "minimum": 0, "title": "a whole quantity"},
                                   "price": {"anyOf": [{"type": "string"}, {"type": "number"}], "title": "a price"}}}}}}}},
}

RULE = """\
policy: widgets
version: v1
title: Widget order pricing (a test policy)
source: {document: made up for the tests, date: "2020-01-01"}
published: "2020-01-01T00:00:00Z"
effective_from: "2020-01-01"
facts_schema: widgets.facts.json
parameters:
  cap: {value: 3}
  vat: {value: 0.2}
tiers:
  discount_schedule:
    rows:
      - {from: 0, to: 100, rate: 0}
      - {from: 100, to: 1000, rate: 0.1}
      - {from: 1000, rate: 0.2}
tables:
  rate_by_size:
    hit: first
    inputs: [items]
    outputs: [rate]
    rows:
      - ["< 10", 5]
      - [-, 4]
inputs:
  region: {path: region, type: string, default: none}
collections:
  orders:
    path: orders
    key: ref
    collections:
      lines:
        path: lines
        inputs:
          qty: {path: qty, type: integer, default: 0}
          price: {path: price, type: decimal, default: 0}
        formulas:
          amount: qty * price
    formulas:
      # written before what it reads: the engine orders formulas by dependency
      total: gross - discount
      gross: sum(lines.amount)
      discount: discount_schedule(gross)
      unit_rate: rate_by_size(sum(lines.qty))
      line_count: count(lines.amount)
formulas:
  grand_total: sum(orders.total) * (1 + vat)
  largest: max(orders.total) if count(orders.total) > 0 else 0
conditions:
  - code: TOO_MANY_LINES
    for_each: orders
    when: line_count > cap
    message: "order {ref} has {line_count} lines; at most {cap}"
  - code: NOTHING_ORDERED
    when: count(orders.total) == 0
    message: no orders
    severity: warning
rounding:
  cents: {quantum: 0.01, mode: half_even}
  whole: {quantum: 1, mode: down}
result:
  grand_total: {value: grand_total, round: cents}
  largest_whole: {value: largest, round: whole}
  approved: {no_violations: true}
  violations: {violations: {item_key_as: order}}
  orders:
    for_each: orders
    fields:
      ref: ref
      gross: gross
      discount: discount
      unit_rate: unit_rate
"""


def make(tmp_path, text=RULE):
    (tmp_path / "rules" / "widgets").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "widgets.facts.json").write_text(json.dumps(FACTS_SCHEMA))
    (tmp_path / "rules" / "widgets" / "v1.yaml").write_text(textwrap.dedent(text))
    return load_rules(tmp_path / "rules")


FACTS = {"orders": [
    {"ref": "A", "lines": [{"qty": 2, "price": "30"}, {"qty": 1, "price": "940.50"}]},
    {"ref": "B", "lines": [{"qty": 1, "price": "50"}, {"qty": 1, "price": "1"}, {"qty": 1, "price": "1"},
                           {"qty": 1, "price": "1"}]},
]}


def test_evaluates_by_hand(tmp_path):
    rules = make(tmp_path)
    d = rules.evaluate("widgets", FACTS, as_of="2021-01-01")
    # A: gross 60 + 940.50 = 1000.50; marginal discount 0 + 900 x 0.1 + 0.50 x 0.2 = 90.10; total 910.40
    # B: gross 53; discount 0; total 53; 4 lines > cap 3 -> TOO_MANY_LINES
    # grand total (910.40 + 53) x 1.2 = 1156.08; largest 910.40 -> 910 (round down)
    r = d.result
    assert r["orders"][0]["gross"] == Decimal("1000.50")
    assert r["orders"][0]["discount"] == Decimal("90.10")
    assert r["orders"][1]["gross"] == Decimal("53") and r["orders"][1]["discount"] == 0
    assert str(r["grand_total"]) == "1156.08"
    assert str(r["largest_whole"]) == "910"
    assert r["approved"] is False
    assert r["violations"] == [{"code": "TOO_MANY_LINES", "order": "B", "message": "order B has 4 lines; at most 3"}]
    # the table: A has 3 items -> row 1 (< 10) -> 5; B has 4 -> 5
    assert [o["unit_rate"] for o in r["orders"]] == [5, 5]
    [call] = next(t for t in d.trace if t["name"] == "unit_rate" and t["item"] == "orders[A]")["calls"]
    assert call == {"table": "rate_by_size", "rows": [1]}
    [tiers] = next(t for t in d.trace if t["name"] == "discount" and t["item"] == "orders[A]")["calls"]
    assert [row["amount"] for row in tiers["rows"]] == [Decimal("0"), Decimal("90"), Decimal("0.10")]
    assert [row["portion"] for row in tiers["rows"]] == [Decimal("100"), Decimal("900"), Decimal("0.50")]


def test_empty_collection_and_warning_condition(tmp_path):
    d = make(tmp_path).evaluate("widgets", {"orders": []}, as_of="2021-01-01")
    assert str(d.result["grand_total"]) == "0.00" and d.result["approved"] is True
    assert d.warnings == [{"code": "NOTHING_ORDERED", "message": "no orders"}]


def test_half_even_rounding_is_the_data_s_choice(tmp_path):
    rules = make(tmp_path)
    # 0.0125 x 1.2 = 0.015 -> half_even 0.02; 0.0375 x 1.2 = 0.045 -> half_even 0.04
    for price, expected in (("0.0125", "0.02"), ("0.0375", "0.04")):
        d = rules.evaluate("widgets", {"orders": [{"ref": "x", "lines": [{"qty": 1, "price": price}]}]},
                           as_of="2021-01-01")
        assert str(d.result["grand_total"]) == expected


def test_duplicate_key_in_facts(tmp_path):
    with pytest.raises(FactsError) as e:
        make(tmp_path).evaluate("widgets", {"orders": [{"ref": "A", "lines": []}, {"ref": "A", "lines": []}]},
                                facts_name="f.json", as_of="2021-01-01")
    assert str(e.value) == "f.json: orders[1].ref: \"A\" appears twice (first at orders[0])"


def test_float_facts_read_from_their_shortest_text(tmp_path):
    d = make(tmp_path).evaluate("widgets", {"orders": [{"ref": "A", "lines": [{"qty": 1, "price": 0.1}]}]},
                                as_of="2021-01-01")
    assert str(d.result["orders"][0]["gross"]) == "0.1"   # not 0.1000000000000000055511151231257827


@pytest.mark.parametrize("old,new,message", [
    ("total: gross - discount", "total: gross - discount + total",
     "formulas form a cycle: orders.total -> orders.total"),
    ("gross: sum(lines.amount)", "gross: sum(lines.amount) + total",
     "formulas form a cycle: orders.total -> orders.gross -> orders.total"),
    ("total: gross - discount", "total: gross - discont", "formula 'total' uses 'discont', which is not defined; did you mean 'discount'?"),
    ("gross: sum(lines.amount)", "gross: sum(lines.amont)", "formula 'gross' uses 'lines.amont', which is not defined; did you mean 'lines.amount'?"),
    ("{from: 100, to: 1000, rate: 0.1}", "{from: 150, to: 1000, rate: 0.1}",
     "tier rows must be contiguous: 'from: 150' leaves a gap after 'to: 100'"),
    ("{from: 100, to: 1000, rate: 0.1}", "{from: 50, to: 1000, rate: 0.1}",
     "tier rows must ascend: 'from: 50' follows 'to: 100'"),
    ("largest_whole: {value: largest, round: whole}", "largest_whole: {value: largest, round: hole}",
     "rounding 'hole' is not defined; did you mean 'whole'?"),
    ("qty: {path: qty,", "qty: {path: qtty,", "the facts schema has no 'qtty'; did you mean 'qty'?"),
])
def test_load_errors(tmp_path, old, new, message):
    assert old in RULE
    with pytest.raises(RuleError) as e:
        make(tmp_path, RULE.replace(old, new))
    assert any(message in str(d) for d in e.value.diagnostics), str(e.value)
    assert all(str(d).startswith(str(tmp_path / "rules" / "widgets" / "v1.yaml") + ":") for d in e.value.diagnostics)


def test_error_position_inside_an_expression(tmp_path):
    with pytest.raises(RuleError) as e:
        make(tmp_path, RULE.replace("total: gross - discount", "total: gross - discont"))
    line = RULE.splitlines().index("      total: gross - discount") + 1
    # column of 'discont' = 7 spaces of indent + len("total: gross - ") + 1
    assert str(e.value.diagnostics[0]).split("v1.yaml:")[1].startswith(f"{line}:{6 + 15 + 1}: ")


def test_division_by_zero_names_the_formula(tmp_path):
    rules = make(tmp_path, RULE.replace("grand_total: sum(orders.total) * (1 + vat)",
                                        "grand_total: sum(orders.total) / (vat - vat)"))
    with pytest.raises(EvaluationError) as e:
        rules.evaluate("widgets", FACTS, as_of="2021-01-01")
    assert "formula 'grand_total': division by zero" in str(e.value)


def test_unused_parameter_is_a_warning(tmp_path):
    rules = make(tmp_path, RULE.replace("  cap: {value: 3}\n", "  cap: {value: 3}\n  unused: {value: 1}\n"))
    [w] = rules.versions("widgets")[0].warnings
    assert w.message == "parameter 'unused' is not used by any formula, condition or result"
