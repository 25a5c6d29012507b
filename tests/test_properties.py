"""Properties of msa-fee over random months, against the announcement's arithmetic
written out independently here (not the engine's formulas)."""
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings, strategies as st

from engine import load_rules

from conftest import ROOT

RULES = load_rules(ROOT / "rules")
amounts = st.decimals(min_value=0, max_value=10 ** 9, places=2, allow_nan=False, allow_infinity=False)


def cents(x: Decimal) -> Decimal:
    return Decimal(x).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def annual_asset_value_fee(av: Decimal) -> Decimal:
    # The seed's table written as a closed form: 2% to 2.5M, 1.5% to 10M, 1% to 25M, 0.5% above.
    return (min(av, 2_500_000) * Decimal("0.02")
            + max(min(av, 10_000_000) - 2_500_000, 0) * Decimal("0.015")
            + max(min(av, 25_000_000) - 10_000_000, 0) * Decimal("0.01")
            + max(av - 25_000_000, 0) * Decimal("0.005"))


@settings(max_examples=60, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=4), st.integers(0, 9), st.lists(st.integers(0, 9), min_size=4, max_size=4),
       amounts, st.sampled_from(["2024-07", "2025-02", "2024-02", "2024-09"]))
def test_both_versions_match_the_announcements(daily_totals, team_vip, investor_vips, volume, month):
    days = {"2024-07": 31, "2025-02": 28, "2024-02": 29, "2024-09": 30}[month]
    facts = {"month": month, "team": {"vip_level": team_vip}, "sub_accounts": [
        {"id": f"s{i}", "investor_vip_level": investor_vips[i],
         "daily": [{"date": f"{month}-01", "asset_value": str(total), "spot_volume": str(volume)}]}
        for i, total in enumerate(daily_totals)]}
    averages = [t / days for t in daily_totals]
    applies = [team_vip >= 7 and team_vip > investor_vips[i] for i in range(len(daily_totals))]
    trading = sum(volume * Decimal("0.00002") for a in applies if a)

    old = RULES.evaluate("msa-fee", facts, version="2024-06-04").result
    asset_fee = annual_asset_value_fee(sum(averages)) * days / 365
    assert old["fee"] == cents(max(asset_fee, trading, 500))
    assert old["asset_value_fee"] == cents(asset_fee)

    new = RULES.evaluate("msa-fee", facts, version="2024-06-11").result
    maintenance = sum(500 for a in averages if a < 100_000)
    assert new["maintenance_fee"] == cents(Decimal(maintenance))
    assert new["fee"] == cents(maintenance + trading)
