"""Decision tables on a made-up policy: hit policies (unique, first, collect with each
aggregate), the cell tests (-, null, a value, a list, comparisons, ranges), several
outputs, defaults with their warning, output expressions, marginal tiers, and what the
trace, coverage and the rule-file schema say of them."""
import json
import textwrap
from decimal import Decimal

import pytest

from engine import RuleError, load_rules
from engine.cli.main import main
from engine.kinds import schema as kinds_schema

from conftest import ROOT

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "additionalProperties": False, "required": ["score", "grade", "items"],
    "properties": {
        "score": {"anyOf": [{"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}, {"type": "number"}]},
        "grade": {"enum": ["a", "b", "c"]},
        "previous": {"enum": ["accept", "review", "reject"]},
        "items": {"type": "array", "items": {
            "type": "object", "required": ["kind", "weight"], "additionalProperties": False,
            "properties": {"kind": {"type": "string"}, "weight": {"type": "integer"}}}},
    },
}

RULE = """\
policy: scoring
version: v1
title: A test policy for decision tables
source: {document: made up for the tests, date: "2020-01-01"}
published: "2020-01-01T00:00:00Z"
effective_from: "2020-01-01"
facts_schema: scoring.facts.json
parameters:
  high: {value: 80}
  low: {value: 40}
tiers:
  bonus:
    rows:
      - {from: 0, to: 50, rate: 0}
      - {from: 50, to: 80, rate: 0.5}
      - {from: 80, rate: 1}
tables:
  verdict:                       # with hysteresis: a review stays a review until below `low`
    hit: first
    inputs: [score, previous]
    outputs: [verdict, reason]
    rows:
      - [null, -, reject, no score]
      - [">= high", -, accept, high score]
      - [">= low", review, review, still under review]
      - ["[low..high)", -, review, middling]
      - [-, -, reject, low score]
  points:
    hit: unique
    inputs: [grade]
    outputs: [points]
    rows:
      - [a, 3]
      - [[b, c], 1]
  weight_sum:
    hit: collect
    aggregate: sum
    inputs: [kind]
    outputs: [weight]
    rows:
      - [heavy, 10]
      - [[heavy, medium], 5]
  heaviest:
    hit: collect
    aggregate: max
    inputs: [kind]
    outputs: [weight]
    default: 0
    warn_default: true
    rows:
      - [heavy, 10]
      - [medium, 5]
  kinds_matched:
    hit: collect
    aggregate: count
    inputs: [kind]
    outputs: [matches]
    rows:
      - [heavy, 1]
      - [[heavy, medium], 1]
  labels:
    hit: collect
    aggregate: list
    inputs: [kind]
    outputs: [label]
    rows:
      - [heavy, big]
      - [[heavy, medium], not small]
  scaled:
    hit: unique
    inputs: [grade]
    outputs: [value]
    rows:
      - [a, "= score * 2"]
      - [[b, c], "= score"]
inputs:
  score: {path: score}
  grade: {path: grade}
  previous: {path: previous, default: accept}
collections:
  items:
    path: items
    inputs:
      kind: {path: kind}
      weight: {path: weight}
    formulas:
      weight_class: weight_sum(kind)
      top: heaviest(kind)
      matched: kinds_matched(kind)
      named: labels(kind)
formulas:
  graded_score: score if grade != "c" else None     # grade c has no score: the verdict's null row
  verdict_now: verdict.verdict(graded_score, previous)
  reason_now: verdict.reason(graded_score, previous)
  grade_points: points(grade)
  doubled: scaled(grade)
  extra: bonus(score)
  total_weight: sum(items.weight_class)
result:
  verdict: verdict_now
  reason: reason_now
  points: grade_points
  doubled: doubled
  extra: extra
  total_weight: total_weight
  items: {for_each: items, fields: {kind: kind, weight_class: weight_class, top: top, matched: matched, named: named}}
"""


def make(tmp_path, text=RULE):
    (tmp_path / "rules" / "scoring").mkdir(parents=True, exist_ok=True)
    (tmp_path / "schemas").mkdir(exist_ok=True)
    (tmp_path / "schemas" / "scoring.facts.json").write_text(json.dumps(SCHEMA))
    (tmp_path / "rules" / "scoring" / "v1.yaml").write_text(textwrap.dedent(text))
    return load_rules(tmp_path / "rules")


def decide(rules, **facts):
    base = {"score": "60", "grade": "a", "items": [{"kind": "heavy", "weight": 1}, {"kind": "light", "weight": 1}]}
    return rules.evaluate("scoring", {**base, **facts}, as_of="2021-01-01")


def refused(tmp_path, old, new):
    assert old in RULE, old
    with pytest.raises(RuleError) as e:
        make(tmp_path, RULE.replace(old, new))
    return [d.message for d in e.value.diagnostics]


@pytest.mark.parametrize("score, previous, verdict, reason", [
    ("80", "accept", "accept", "high score"),        # >= high, row 2
    ("79.99", "accept", "review", "middling"),       # [40..80), row 4
    ("40", "accept", "review", "middling"),          # the range includes 40
    ("39.99", "accept", "reject", "low score"),
    ("39.99", "review", "reject", "low score"),      # below low: the review ends
    ("40", "review", "review", "still under review"),   # row 3 before row 4 (hit first)
    ("90", "review", "accept", "high score"),
])
def test_first_hit_and_two_outputs_by_hand(tmp_path, score, previous, verdict, reason):
    d = decide(make(tmp_path), score=score, previous=previous)
    assert (d.result["verdict"], d.result["reason"]) == (verdict, reason)


def test_unique_lists_collect_and_expression_outputs_by_hand(tmp_path):
    rules = make(tmp_path)
    d = decide(rules, grade="b")
    assert d.result["points"] == 1                    # b is in [b, c]
    assert d.result["doubled"] == Decimal("60")       # = score for b
    assert decide(rules, grade="a").result["doubled"] == Decimal("120")   # = score * 2 for a
    # heavy: rows 1 and 2 -> sum 15, max 10, count 2, list [big, not small]; light: no row -> 0, default 0, 0, []
    heavy, light = d.result["items"]
    assert (heavy["weight_class"], heavy["top"], heavy["matched"], heavy["named"]) == (15, 10, 2, ("big", "not small"))
    assert (light["weight_class"], light["top"], light["matched"], light["named"]) == (0, 0, 0, ())
    assert d.result["total_weight"] == 15
    # the default of `heaviest` warns, naming the item
    assert d.warnings == [{"code": "NO_TABLE_ROW", "path": "items[1]",
                           "message": "table 'heaviest' has no row for (light); 0 is used"}]
    # tiers: 60 -> 50 x 0 + 10 x 0.5 = 5
    assert d.result["extra"] == Decimal("5.0")


def test_the_trace_names_the_rows_used(tmp_path):
    d = decide(make(tmp_path), score="40", previous="review")
    entry = next(e for e in d.trace if e["name"] == "verdict_now")
    assert entry["calls"] == [{"table": "verdict", "rows": [3]}]
    entry = next(e for e in d.trace if e["name"] == "weight_class" and e["item"] == "items[0]")
    assert entry["calls"] == [{"table": "weight_sum", "rows": [1, 2]}]
    assert "      table verdict: row 3" in d.to_text()


def test_null_tests_and_a_null_argument(tmp_path):
    rules = make(tmp_path)
    assert decide(rules, grade="c").result["verdict"] == "reject"      # null matches row 1 only
    assert decide(rules, grade="c").result["reason"] == "no score"
    assert decide(rules, grade="b").result["verdict"] == "review"


def test_the_checks(tmp_path):
    assert refused(tmp_path, "      - [a, 3]\n", "      - [a, 3]\n      - [[a, b], 2]\n") == [
        "table 'points': rows 1 and 2 both match grade \"a\"; a unique table's rows must not overlap (or make it "
        "hit: first)",
        "table 'points': rows 2 and 3 both match grade \"b\"; a unique table's rows must not overlap (or make it "
        "hit: first)"]
    assert refused(tmp_path, "      - [[b, c], 1]\n", "      - [b, 1]\n") == [
        "table 'points' has no row for grade \"c\": add rows, a catch-all row (- in every column), or a default"]
    assert refused(tmp_path, "      - [-, -, reject, low score]\n",
                   "      - [-, -, reject, low score]\n      - [\">= high\", -, accept, again]\n") == [
        "table 'verdict': row 6 is never used: rows above it match everything it matches"]
    assert refused(tmp_path, "  graded_score: score if grade != \"c\" else None", "  graded_score: score") == [
        "table 'verdict': row 1 is never used: it matches no value its callers pass"]
    assert refused(tmp_path, "      - [a, 3]\n", "      - [d, 3]\n") == [
        "table 'points' column 'grade': the value \"d\" is not one of a, b, c"]
    assert refused(tmp_path, "  grade_points: points(grade)", "  grade_points: points(grade, score)") == [
        "formula 'grade_points': points(): table 'points' takes 1 argument(s) (grade), found 2"]
    assert refused(tmp_path, "  verdict_now: verdict.verdict(graded_score, previous)",
                   "  verdict_now: verdict(graded_score, previous)") == [
        "formula 'verdict_now': table 'verdict' has 2 outputs; call verdict.verdict(...) or verdict.reason(...)"]
    assert refused(tmp_path, "      - [[b, c], \"= score\"]", "      - [[b, c], \"= grade\"]") == [
        "table 'scaled' output 'value': this cell gives text {a, b, c}, the others decimal"]


def test_coverage_counts_rows_and_tiers(tmp_path, capsys):
    rules_dir = tmp_path / "rules"
    make(tmp_path)
    (rules_dir / "scoring" / "cases").mkdir()
    (rules_dir / "scoring" / "cases" / "one.yaml").write_text(textwrap.dedent("""\
        description: one decision
        facts: {score: "60", grade: a, items: [{kind: heavy, weight: 1}]}
        as_of: "2021-01-01"
        versions:
          v1:
            result: {verdict: review, points: 3}
        """))
    assert main(["test", "--coverage", "--rules", str(rules_dir)]) == 0
    out = capsys.readouterr().out
    for missed in ("table row verdict row 1 (null, -)", "table row verdict row 2 (>= high, -)",
                   "table row points row 2 ([b, c])", "tier row bonus row 3 (from 80)"):
        assert f"not reached: {missed}" in out
    assert "not reached: table row verdict row 4" not in out     # the row that applied
    assert "not reached: tier row bonus row 2" not in out        # 60 reaches the second band


def test_the_rule_file_schema_has_each_construct_s_fragment():
    committed = json.loads((ROOT / "schemas" / "rule-file.schema.json").read_text())
    assert kinds_schema.merged(committed) == committed   # `python -m engine.kinds.schema` rewrites it


def test_no_shipped_expression_is_longer_than_120_characters():
    long = []
    for version in (v for vs in load_rules(ROOT / "rules").policies.values() for v in vs):
        texts = [f.text for f in version.plan] + [c.when.text for c in version.conditions if c.when]
        texts += [o.expression for t in version.tables.values() for r in t.rows for o in r.outputs if o.expression]
        long += [(version.policy, version.version, t) for t in texts if len(t) > 120]
    assert long == []


LEVELS_RULE = """\
policy: levels
version: v1
title: A table over a bounded integer
source: {document: made up for the tests, date: "2020-01-01"}
published: "2020-01-01T00:00:00Z"
effective_from: "2020-01-01"
facts_schema: levels.facts.json
tables:
  band:
    inputs: [level]
    outputs: [band]
    rows:
      - ["[0..3]", low]
      - ["[4..7]", middle]
      - ["[8..9]", high]
inputs:
  level: {path: level}
formulas:
  band_now: band(LEVEL)
result:
  band: band_now
"""


def levels(tmp_path, level_schema, argument="level", rule=LEVELS_RULE):
    (tmp_path / "rules" / "levels").mkdir(parents=True, exist_ok=True)
    (tmp_path / "schemas").mkdir(exist_ok=True)
    node = level_schema if isinstance(level_schema, str) else json.dumps(level_schema)   # str: JSON as written
    (tmp_path / "schemas" / "levels.facts.json").write_text(
        '{"type": "object", "required": ["level"], "properties": {"level": %s}}' % node)
    (tmp_path / "rules" / "levels" / "v1.yaml").write_text(rule.replace("LEVEL", argument))
    return load_rules(tmp_path / "rules")


def levels_rows(tmp_path, tests):
    """The levels table with these rows (level 0-9 by the schema)."""
    rows = "".join(f'      - ["{t}", b{i}]\n' for i, t in enumerate(tests))
    text = LEVELS_RULE.split("    rows:\n")[0] + "    rows:\n" + rows + "inputs:" + LEVELS_RULE.split("\ninputs:", 1)[1]
    return levels(tmp_path, {"type": "integer", "minimum": 0, "maximum": 9}, rule=text)


def test_a_gap_is_sought_only_within_the_schema_s_bounds(tmp_path):
    # 0-9 by the schema: [0..3], [4..7], [8..9] leave no gap
    rules = levels(tmp_path, {"type": "integer", "minimum": 0, "maximum": 9})
    assert rules.evaluate("levels", {"level": 8}, as_of="2021-01-01").result == {"band": "high"}
    # exclusive bounds, for integers: above -1 and below 10 is 0-9 too
    levels(tmp_path, {"type": "integer", "exclusiveMinimum": -1, "exclusiveMaximum": 10})
    # the whole numbers of a gap are named
    with pytest.raises(RuleError, match=r"no row for level 8; level 9: add rows"):
        levels_rows(tmp_path, ["[0..3]", "[4..7]"])
    with pytest.raises(RuleError, match=r"no row for level from 4 to 7: add rows"):
        levels_rows(tmp_path, ["[0..3]", "[8..9]"])
    # a bound between whole numbers splits at both: 3 is in neither [0..2.5] nor [3.5..9]
    with pytest.raises(RuleError, match=r"no row for level 3: add rows"):
        levels_rows(tmp_path, ["[0..2.5]", "[3.5..9]"])
    with pytest.raises(RuleError, match=r"no row for level 3; level from 4 to 8: add rows"):
        levels_rows(tmp_path, ["< 2.5", ">= 9"])
    # a bound beyond what a facts number can be (40 digits) bounds nothing; no overflow
    with pytest.raises(RuleError, match=r"no row for level above 9: add rows"):
        levels(tmp_path, '{"type": "integer", "minimum": 0, "maximum": 1e1000000}')
    # a maximum of 10 leaves 10 without a row
    with pytest.raises(RuleError, match=r"table 'band' has no row for level 10: add rows"):
        levels(tmp_path, {"type": "integer", "minimum": 0, "maximum": 10})
    # no bounds: below 0 and above 9 are gaps, and the schema may be what is missing
    with pytest.raises(RuleError, match=r"no row for level below 0; level above 9: add rows, a catch-all row "
                                        r"\(- in every column\), or a default; or, if level is never below 0, give it "
                                        r"a minimum in the facts schema$"):
        levels(tmp_path, {"type": "integer"})


def test_arithmetic_and_functions_lose_the_bounds(tmp_path):
    bounded = {"type": "integer", "minimum": 0, "maximum": 9}
    # level - 1 can be -1; abs(level - 5) is not within 0-9's bounds either way: no bounds, so gaps
    with pytest.raises(RuleError, match=r"no row for level below 0;.* or a default$"):   # no schema hint
        levels(tmp_path, bounded, "level - 1")
    with pytest.raises(RuleError, match=r"no row for level below 0"):
        levels(tmp_path, bounded, "-level")
    with pytest.raises(RuleError, match=r"no row for level below 0"):
        levels(tmp_path, bounded, "max(level, 3)")


def test_complete_true_checks_the_gaps_of_a_table_with_a_default(tmp_path):
    """`default` is the answer where no row matches; `complete: true` says that never happens,
    and is checked like a table without a default."""
    text = LEVELS_RULE.replace("    inputs: [level]\n", "    complete: true\n    default: none\n    inputs: [level]\n")
    rows = text.split("    rows:\n")
    (tmp_path / "rules" / "levels").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "levels.facts.json").write_text(json.dumps(
        {"type": "object", "required": ["level"], "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 9}}}))
    rule = tmp_path / "rules" / "levels" / "v1.yaml"
    rule.write_text(rows[0] + "    rows:\n" + rows[1].replace('      - ["[8..9]", high]\n', "").replace("LEVEL", "level"))
    with pytest.raises(RuleError, match=r"has no row for level 8; level 9: add rows or a catch-all row "
                                        r"\(- in every column\); it says complete: true$"):
        load_rules(tmp_path / "rules")
    rule.write_text(rule.read_text().replace("    complete: true\n", ""))   # the default answers 8 and 9
    assert load_rules(tmp_path / "rules").evaluate("levels", {"level": 9}, as_of="2021-01-01").result == {"band": "none"}


@pytest.mark.parametrize("old, new, message", [
    ("  points:\n", "  abs:\n", "table 'abs' has the name of a function; rename it"),
    ("  points:\n", "  bonus:\n", "table 'bonus' has the name of tiers; names must be unique"),
    ("  low: {value: 40}\n", "  low: {value: 40}\n  verdict: {value: 1}\n",
     "table 'verdict' has the name of a parameter; names must be unique"),
])
def test_a_name_calls_one_thing(tmp_path, old, new, message):
    assert old in RULE
    with pytest.raises(RuleError) as e:
        make(tmp_path, RULE.replace(old, new, 1))
    assert message in [str(d).split(": ", 1)[1] for d in e.value.diagnostics]
