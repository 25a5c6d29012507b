"""The benchmark's hand-written implementations and the engine agree exactly on random
facts, so that the benchmark compares the same work."""
import json
import sys
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from engine import load_rules
from engine.report.decision import to_plain

from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
from handwritten import HANDWRITTEN  # noqa: E402

RULES = load_rules(ROOT / "rules")
amount = st.decimals(min_value=0, max_value=10 ** 7, places=2, allow_nan=False).map(lambda d: format(d, "f"))


@st.composite
def msa_facts(draw):
    month = draw(st.sampled_from(["2024-07", "2025-02", "2024-02"]))
    subs = []
    for i in range(draw(st.integers(0, 3))):
        days = draw(st.lists(st.integers(1, 28), unique=True, max_size=5))
        subs.append({"id": f"s{i}", "investor_vip_level": draw(st.integers(0, 9)),
                     "daily": [{"date": f"{month}-{d:02d}", "asset_value": draw(amount),
                                "spot_volume": draw(amount), "futures_volume": draw(amount)} for d in days]})
    return {"month": month, "team": {"vip_level": draw(st.integers(0, 9))}, "sub_accounts": subs}


@st.composite
def ltv_facts(draw):
    assets = st.dictionaries(st.sampled_from(["BTC", "ETH", "USDT", "USDC", "XRP", "BNB"]), amount, max_size=3)
    wallets = []
    for kind in draw(st.lists(st.sampled_from(["portfolio_margin", "spot", "cross_margin_classic",
                                               "cross_margin_pro"]), unique=True, min_size=1, max_size=3)):
        w = {"type": kind, "assets": draw(assets)}
        if kind == "portfolio_margin":
            w["maintenance"] = [{"liability": draw(amount), "asset": "USDT", "mmr": "0.1"}]
        if kind.startswith("cross"):
            w["liabilities"] = [{"asset": "USDT", "amount": draw(amount), "interest": "1", "mmr": "0.05"}]
        wallets.append(w)
    facts = {"loan": {"principal": draw(amount), "interest": "0", "asset": "USDT"},
             "previous_state": draw(st.sampled_from(["normal", "margin_call", "liquidation"])),
             "index_prices": {"BTC": "100000", "ETH": "3000", "USDT": "1", "USDC": "1", "XRP": "2", "BNB": "600"},
             "accounts": [{"id": "a1", "role": "collateral", "wallets": wallets}]}
    held = [(w["type"], a) for w in wallets for a in w["assets"]]
    if held and draw(st.booleans()):
        kind, asset = draw(st.sampled_from(held))
        have = Decimal(next(w for w in wallets if w["type"] == kind)["assets"][asset])
        facts["transfer_out"] = {"account": "a1", "wallet": kind, "asset": asset,
                                 "amount": format(have / 2, "f")}
    return facts


pm_facts = st.fixed_dictionaries({
    "vip_level": st.integers(0, 9), "spot_volume_30d": amount, "futures_volume_30d": amount,
    "wallet_balances": st.fixed_dictionaries({"cross_margin": amount}), "quiz_passed": st.booleans()})

STRATEGIES = {"msa-fee": msa_facts(), "institutional-loan-ltv": ltv_facts(), "portfolio-margin-eligibility": pm_facts}


def agree(policy, version, facts):
    engine = to_plain(RULES.evaluate(policy, json.loads(json.dumps(facts)), version=version).result)
    hand = to_plain(HANDWRITTEN[(policy, version)](json.loads(json.dumps(facts))))
    assert engine == hand


@settings(max_examples=120, deadline=None)
@given(msa_facts())
def test_msa_fee(facts):
    agree("msa-fee", "2024-06-04", facts)


@settings(max_examples=120, deadline=None)
@given(ltv_facts())
def test_ltv(facts):
    agree("institutional-loan-ltv", "2024-12-05", facts)


@settings(max_examples=120, deadline=None)
@given(pm_facts)
def test_pm_eligibility(facts):
    agree("portfolio-margin-eligibility", "2024-12-03", facts)


@settings(max_examples=120, deadline=None)
@given(msa_facts())
def test_msa_fee_revision_fees(facts):
    """bench/impact.py checks `policy impact`'s totals against these hand-written fees."""
    from handwritten import msa_fee_2024_06_11
    engine = to_plain(RULES.evaluate("msa-fee", json.loads(json.dumps(facts)), version="2024-06-11").result)
    hand = to_plain(msa_fee_2024_06_11(json.loads(json.dumps(facts))))
    assert {key: engine[key] for key in hand} == hand
