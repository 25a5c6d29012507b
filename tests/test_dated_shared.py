"""Dated shared data: a new collateral ratio applies from its date, once published, and
never rewrites a decision before it (result and digest alike)."""
import json
import shutil

import pytest

from engine import NoVersionError, RuleError, load_rules
from engine.cli.main import main

from conftest import ROOT

FAQ = (ROOT / "rules/institutional-loan-ltv/cases/faq-worked-example.facts.json").read_bytes()

# BTC in the margin wallets counts 90% from 2025-03-01, announced 2025-02-20. A dated value
# is the whole table: the shipped rows, with that one ratio changed.
SHARED = (ROOT / "rules" / "_shared" / "collateral-ratios.yaml").read_text()
END = SHARED.index("\n    assumed: >-\n", SHARED.index("    values:")) + 1   # the table's own note, after its values
ROWS = SHARED[SHARED.index("        rows:\n"):END]
BTC = "cross_margin_pro], BTC, 0.95]"
assert ROWS.count(BTC) == 1
NEW_BTC_RATIO = ('      - from: "2025-03-01"\n        published: "2025-02-20T09:00:00Z"\n'
                 "        source: a made-up announcement, for the test\n"
                 + ROWS.replace(BTC, "cross_margin_pro], BTC, 0.90]"))


def with_new_value(tmp_path, value=NEW_BTC_RATIO):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    shared = tmp_path / "rules" / "_shared" / "collateral-ratios.yaml"
    text = shared.read_text()
    at = text.index("\n    assumed: >-\n", text.index("    values:")) + 1
    shared.write_text(text[:at] + value + text[at:])
    return load_rules(tmp_path / "rules")


def decide(rules, as_of, known_at):
    """The version pinned (a later version would take over these dates); the shared values
    are still chosen by as_of and known_at."""
    return rules.evaluate("institutional-loan-ltv", FAQ, as_of=as_of, known_at=known_at, version="2024-12-05")


def test_a_new_ratio_leaves_earlier_decisions_unchanged_byte_for_byte(tmp_path):
    shipped, changed = load_rules(ROOT / "rules"), with_new_value(tmp_path)
    for as_of, known_at in (("2025-01-15", "2025-01-15T12:00:00Z"), ("2025-02-28", "2025-06-01T00:00:00Z"),
                            ("2025-03-01", "2025-02-19T23:59:59Z")):   # in effect, but not yet published
        assert decide(changed, as_of, known_at).to_json() == decide(shipped, as_of, known_at).to_json()


def test_the_new_ratio_applies_from_its_date_once_published(tmp_path):
    rules = with_new_value(tmp_path)
    before = decide(rules, "2025-02-28", "2025-06-01T00:00:00Z")
    after = decide(rules, "2025-03-01", "2025-06-01T00:00:00Z")
    # 40 BTC x 100,000 x 0.90 = 3,600,000 instead of 3,800,000: the total falls by 200,000
    assert str(before.result["aggregate_net_collateral"]) == "10424750.00"
    assert str(after.result["aggregate_net_collateral"]) == "10224750.00"
    # LTV = 2,000,000 / (10,224,750 - 240,000) = 0.200305... -> 0.2003
    assert str(after.result["ltv"]) == "0.2003"
    assert after.version.digest != before.version.digest    # the digest covers the values used
    assert after.version.version == before.version.version == "2024-12-05"


def test_no_value_in_effect_is_the_caller_s_dates(tmp_path, capsys):
    rules = load_rules(ROOT / "rules")
    with pytest.raises(NoVersionError) as e:
        rules.evaluate("institutional-loan-ltv", FAQ, version="2024-12-05", as_of="2024-01-01")
    assert str(e.value) == ("shared table 'collateral_ratio' (rules/_shared/collateral-ratios.yaml) has no value in effect "
                            "on 2024-01-01 among those published by "
                            f"{e.value.args[0].split('published by ')[1].split(';')[0]}; the first applies from "
                            "2024-12-05 (published 2024-12-05T00:00:00Z)")
    code = main(["eval", "institutional-loan-ltv", "--facts", str(ROOT / "rules/institutional-loan-ltv/cases/"
                 "faq-worked-example.facts.json"), "--version", "2024-12-05", "--as-of", "2024-01-01",
                 "--rules", str(ROOT / "rules")])
    assert code == 2


def test_every_dated_value_is_checked_when_the_rules_load(tmp_path):
    with pytest.raises(RuleError) as e:
        with_new_value(tmp_path, NEW_BTC_RATIO.replace("[[portfolio_margin, portfolio_margin_pro, cross_margin_classic, "
                                                       "cross_margin_pro], BTC", "[[portfolio_margn, portfolio_margin_pro, "
                                                       "cross_margin_classic, cross_margin_pro], BTC"))
    shared = str(tmp_path / "rules" / "_shared" / "collateral-ratios.yaml")
    messages = {str(d) for d in e.value.diagnostics}
    assert any(m.startswith(shared + ":") and "\"portfolio_margn\" is not one of cross_margin_classic" in m
               and "did you mean 'portfolio_margin'?" in m for m in messages), messages


def test_two_values_of_the_same_dates_are_ambiguous(tmp_path):
    twin = NEW_BTC_RATIO.replace('"2025-03-01"', '"2024-12-05"').replace('"2025-02-20T09:00:00Z"',
                                                                        '"2024-12-05T00:00:00Z"')
    with pytest.raises(RuleError) as e:
        with_new_value(tmp_path, twin)
    assert [d.message for d in e.value.diagnostics] == [   # and no knock-on error in the policies using it
        "table 'collateral_ratio' has two values from 2024-12-05 published 2024-12-05T00:00:00Z (the other is value 1): "
        "which applies would be ambiguous"]


SHARED_SIGN = """\
title: s
source: {document: made up for the tests, date: "2020-01-01"}
tables:
  sign:
    hit: first
    inputs: [x]
    outputs: [s]
    values:
      - from: "2020-01-01"
        published: "2020-01-01T00:00:00Z"
        rows:
          - [ROW, one]
          - [-, other]
"""
USES_SIGN = """\
policy: p
version: v1
title: t
source: {document: made up for the tests, date: "2020-01-01"}
published: "2020-01-01T00:00:00Z"
effective_from: "2020-01-01"
facts_schema: p.facts.json
uses: [s]
inputs:
  x: {path: x}
formulas:
  s: sign(x)
result:
  s: s
"""


@pytest.mark.parametrize("row, x_schema, refused", [
    ('"< 0"', {"type": "integer", "minimum": 0}, None),     # a row for another policy's negatives: fine here
    ("ETH", {"enum": ["BTC", "USDT"]}, None),                # a value this policy's assets never take
    ("USTD", {"enum": ["BTC", "USDT"]}, "did you mean 'USDT'?"),   # close to one it does: a typo
])
def test_a_shared_table_serves_several_policies(tmp_path, row, x_schema, refused):
    (tmp_path / "rules" / "_shared").mkdir(parents=True)
    (tmp_path / "rules" / "p").mkdir()
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "p.facts.json").write_text(json.dumps({"type": "object", "properties": {"x": x_schema}}))
    (tmp_path / "rules" / "_shared" / "s.yaml").write_text(SHARED_SIGN.replace("ROW", row))
    (tmp_path / "rules" / "p" / "v1.yaml").write_text(USES_SIGN)
    if refused is None:
        load_rules(tmp_path / "rules")
    else:
        with pytest.raises(RuleError, match=refused):
            load_rules(tmp_path / "rules")
