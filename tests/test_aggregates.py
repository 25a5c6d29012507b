"""Aggregates that reach any depth and take a filter: sum(a.b.c.x where y), and the
functions that go with them (first, get with a default, without, days_of, month_of,
date_ranges, largest_multiple_below with a cap)."""
import json
import shutil
from datetime import date
from decimal import Decimal

import pytest

from engine import RuleError, load_rules
from engine.compile.functions import CALLABLES

from conftest import ROOT

FAQ = json.loads((ROOT / "rules/institutional-loan-ltv/cases/faq-worked-example.facts.json").read_text())


def ltv_with(tmp_path, formulas: str):
    """The shipped LTV rules with more formulas, shown in the result under 'extra'."""
    shutil.rmtree(tmp_path / "rules", ignore_errors=True)
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas", dirs_exist_ok=True)
    rule = tmp_path / "rules" / "institutional-loan-ltv" / "2024-12-05.yaml"
    text = rule.read_text()
    names = [line.split(":")[0].strip() for line in formulas.strip().splitlines()]
    text = text.replace("\nconditions:\n", "\n" + formulas + "\nconditions:\n", 1)
    text = text.replace("\nresult:\n", "\nresult:\n  extra:\n    fields: {" + ", ".join(f"{n}: {n}" for n in names)
                        + "}\n", 1)
    rule.write_text(text)
    return load_rules(tmp_path / "rules")


def test_deep_paths_and_filters_by_hand(tmp_path):
    rules = ltv_with(tmp_path, """
  every_asset: count(accounts.wallets.assets.asset)
  pm_value: sum(accounts.wallets.assets.value where type == "portfolio_margin")
  btc_or_eth: count(accounts.wallets.assets.asset where asset == "BTC" or asset == "ETH")
  loan_holding: first(accounts.wallets.assets.amount where role == "loan", 0)
  none_held: first(accounts.wallets.assets.amount where asset == "DOGE", 0)
  spot_any: count(accounts.wallets.assets.amount where type == "spot") > 0
""")
    facts = json.loads(json.dumps(FAQ))
    result = rules.evaluate("institutional-loan-ltv", facts, version="2024-12-05").result["extra"]
    # the FAQ's wallets hold BTC, ETH | SOL, XRP | USDC | USDT | USDT: 7 assets, BTC and ETH once each
    assert result["every_asset"] == 7 and result["btc_or_eth"] == 2
    # portfolio margin values: 3,800,000 + 4,750 + 1,800,000 + 340,000 + 1,980,000
    assert result["pm_value"] == Decimal("7924750.00")
    assert result["loan_holding"] == Decimal("2000000") and result["none_held"] == 0
    assert result["spot_any"] is True


def test_a_filter_is_typed_and_placed(tmp_path):
    with pytest.raises(RuleError) as e:
        ltv_with(tmp_path, "  bad: sum(accounts.wallets.assets.value where amount)\n")
    assert "'where' needs true or false, not decimal" in str(e.value)
    with pytest.raises(RuleError) as e:
        ltv_with(tmp_path, "  bad: sum(accounts.wallets.assets.value where asset == 7)\n")
    assert "'==' compares 'asset' (text) with 7, which are never equal" in str(e.value)
    with pytest.raises(RuleError) as e:
        ltv_with(tmp_path, "  bad: sum(accounts.walets.assets.value where selected)\n")
    assert "'accounts.walets.assets.value' is not one" in str(e.value)
    with pytest.raises(RuleError) as e:
        ltv_with(tmp_path, "  bad: (accounts.wallets.assets.value where selected)\n")
    assert "'where' filters an argument of a function" in str(e.value)


@pytest.mark.parametrize("call, args, expected", [
    ("first", ([], 0), 0),
    ("first", (["a", "b"], "z"), "a"),
    ("get", ({"a": 1}, "b", 5), 5),
    ("without", (["a", "b", "c"], ["b"]), ["a", "c"]),
    ("days_of", ("2024-02",), [date(2024, 2, d) for d in range(1, 30)]),
    ("month_of", (date(2024, 7, 31),), "2024-07"),
    ("date_ranges", ([date(2024, 7, 9), date(2024, 7, 4), date(2024, 7, 5), date(2024, 7, 6)],),
     "2024-07-04 to 2024-07-06, 2024-07-09"),
    # 10 / (3 x 0.01) = 333.3...: the largest k with k x 0.03 < 10 is 333 -> 3.33; capped at 2 -> 2.00
    ("largest_multiple_below", (Decimal(10), Decimal(3), Decimal("0.01")), Decimal("3.33")),
    ("largest_multiple_below", (Decimal(10), Decimal(3), Decimal("0.01"), Decimal(2)), Decimal("2.00")),
    # a denominator of 0 with a cap: all of it (in quanta) fits while the numerator is above 0
    ("largest_multiple_below", (Decimal(10), Decimal(0), Decimal("0.01"), Decimal("5.129")), Decimal("5.12")),
    ("largest_multiple_below", (Decimal(-1), Decimal(0), Decimal("0.01"), Decimal(5)), Decimal("0.00")),
])
def test_new_functions_by_hand(call, args, expected):
    assert CALLABLES[call](*args) == expected
