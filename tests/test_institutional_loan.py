"""institutional-loan-ltv: the FAQ's printed inconsistency, and properties over random
risk units (hypothesis)."""
import shutil
from decimal import Decimal

from hypothesis import assume, given, settings, strategies as st

from engine import load_rules

from conftest import ROOT

RULES = load_rules(ROOT / "rules")
POLICY = "institutional-loan-ltv"
VERSION = "2024-12-05"
FAQ = (ROOT / "rules" / POLICY / "cases" / "faq-worked-example.facts.json").read_text()


def test_usdt_ratio_the_value_column_wins(tmp_path):
    """The FAQ prints 99.99% for sub-account 4's USDT but values it at 1,980,000.00 (99%).
    The value column wins: it is what the printed totals and the 19.63% are made of.
    With 99.99% neither the total nor the LTV would come out as printed."""
    ratio = RULES.versions(POLICY)[0].tables["collateral_ratio"]
    [usdt] = [row for row in ratio.rows if row.tests[1].kind == "in" and "USDT" in row.tests[1].value
              and "portfolio_margin" in row.tests[0].value]
    assert usdt.outputs[0].value == Decimal("0.99")
    printed = RULES.evaluate(POLICY, FAQ, version=VERSION).result
    assert (str(printed["aggregate_net_collateral"]), str(printed["ltv"])) == ("10424750.00", "0.1963")

    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    shared = tmp_path / "rules" / "_shared" / "collateral-ratios.yaml"
    text = shared.read_text()
    row = "cross_margin_pro], [USDT, USDC], 0.99]"
    assert text.count(row) == 1
    shared.write_text(text.replace(row, "cross_margin_pro], [USDT, USDC], 0.9999]"))
    other = load_rules(tmp_path / "rules").evaluate(POLICY, FAQ, version=VERSION).result
    # 2,000,000 x 0.9999 = 1,999,800: total 10,444,550; LTV 2,000,000 / 10,204,550 = 0.19599...
    assert (str(other["aggregate_net_collateral"]), str(other["ltv"])) == ("10444550.00", "0.1959")


def plain(x) -> str:
    return format(Decimal(x), "f")


def unit(principal, collateral_usdc, btc=Decimal(0), previous="normal", transfer=None):
    facts = {"loan": {"principal": plain(principal), "interest": "0", "asset": "USDT"},
             "previous_state": previous,
             "index_prices": {"USDC": "1", "USDT": "1", "BTC": "100000"},
             "accounts": [{"id": "c1", "role": "collateral", "wallets": [
                 {"type": "spot", "assets": {"USDC": plain(collateral_usdc)}},
                 {"type": "portfolio_margin", "assets": {"BTC": plain(btc)}}]}]}
    if transfer:
        facts["transfer_out"] = transfer
    return RULES.evaluate(POLICY, facts, version=VERSION)


money = st.decimals(min_value=1, max_value=10 ** 8, places=2)
states = st.sampled_from(["normal", "margin_call", "liquidation"])


def exact_ltv(decision):
    return next(e["value"] for e in decision.trace if e["name"] == "ltv")


@settings(max_examples=40, deadline=None)
@given(money, money, money)
def test_ltv_rises_with_the_loan_and_falls_with_collateral(principal, collateral, more):
    base = exact_ltv(unit(principal, collateral))
    assert exact_ltv(unit(principal + more, collateral)) > base
    assert exact_ltv(unit(principal, collateral + more)) < base


@settings(max_examples=40, deadline=None)
@given(money, money, states)
def test_at_or_above_90_percent_is_liquidation_whatever_came_before(principal, collateral, previous):
    d = unit(principal, collateral, previous=previous)
    ltv = exact_ltv(d)
    if ltv >= Decimal("0.9"):
        assert d.result["state"] == "liquidation"
        assert list(d.result["actions"]) == ["liquidate", "disable_new_borrowing", "disable_transfer_out"]
    elif ltv < Decimal("0.85"):
        assert d.result["state"] == "normal"
    else:
        assert d.result["state"] == ("liquidation" if previous == "liquidation" else "margin_call")


@settings(max_examples=40, deadline=None)
@given(money, st.decimals(min_value="0.00000001", max_value=1000, places=8), st.sampled_from(["USDC", "BTC"]))
def test_the_maximum_transfer_keeps_ltv_below_90_and_one_unit_more_does_not(principal, btc, asset):
    collateral = Decimal(principal) * 2   # LTV about 50% before any transfer
    holding = collateral if asset == "USDC" else btc
    wallet = "spot" if asset == "USDC" else "portfolio_margin"
    probe = {"account": "c1", "wallet": wallet, "asset": asset, "amount": "0"}
    d = unit(principal, collateral, btc=btc, transfer=probe)
    assume(d.result["state"] == "normal")
    top = d.result["transfer"]["max_amount"]
    at_max = unit(principal, collateral, btc=btc, transfer={**probe, "amount": plain(top)})
    assert at_max.result["transfer"]["allowed"] is True
    assert next(e["value"] for e in at_max.trace if e["name"] == "ltv_after") < Decimal("0.9")
    if top < holding:   # not capped by the holding: one more unit reaches 90%
        over = unit(principal, collateral, btc=btc, transfer={**probe, "amount": plain(top + Decimal("0.00000001"))})
        assert over.result["transfer"]["allowed"] is False
        assert next(e["value"] for e in over.trace if e["name"] == "ltv_after") >= Decimal("0.9")
