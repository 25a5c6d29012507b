"""The text explanation (engine.report.explain) a reviewer checks by hand: values at the
result's rounding, the table row that applied written out, tiers bands that take nothing and
what-ifs not taken folded away; JSON keeps full precision."""
import json
from pathlib import Path

from engine.run.cases import load_cases

ROOT = Path(__file__).resolve().parent.parent
FAQ = json.loads((ROOT / "rules/institutional-loan-ltv/cases/faq-worked-example.facts.json").read_text())
FEB = json.loads((ROOT / "rules/msa-fee/cases/february-three-accounts.facts.json").read_text())
KNOWN_AT = "2025-01-01T00:00:00Z"


def test_values_at_the_results_rounding_and_full_precision_in_json(rules):
    d = rules.evaluate("institutional-loan-ltv", FAQ, known_at=KNOWN_AT)
    text = d.to_text()
    # the FAQ: 2,000,000 / (10,424,750 - 240,000) = 0.196372..., shown as the result rounds it (down, 4 places)
    assert "  ltv = 0.1963 (ratio) = outstanding_value / equity if equity > 0 else None" in text
    assert "aggregate_net_collateral = 10,424,750.00 (money)" in text
    [entry] = [e for e in d.to_dict()["trace"] if e["name"] == "ltv"]
    assert entry["value"].startswith("0.19637202")   # JSON: every digit


def test_the_row_that_applied_is_written_out(rules):
    text = rules.evaluate("institutional-loan-ltv", FAQ, known_at=KNOWN_AT).to_text()
    assert "      table risk_state: row 5 (-, - → normal)" in text     # no margin call, no liquidation
    assert "      table state_actions: row 1 (normal → [])" in text


def test_what_ifs_not_taken_are_folded_into_one_line(rules):
    text = rules.evaluate("institutional-loan-ltv", FAQ, known_at=KNOWN_AT).to_text()
    folded = [line for line in text.splitlines() if line.startswith("  computed, but nothing shown depends on them")]
    assert len(folded) == 1 and "max_transfer" in folded[0] and "ltv_after" in folded[0]
    assert not any(line.startswith(("  max_transfer =", "  ltv_after =")) for line in text.splitlines())
    assert "  0 for every item: accounts.wallets.liability_value" in text   # no liabilities in the FAQ


def test_a_what_if_taken_is_shown(rules):
    case = next(c for c in load_cases(rules) if c.policy == "institutional-loan-ltv" and c.name == "transfer-out-allowed")
    text = rules.evaluate(case.policy, case.facts, as_of=case.as_of, known_at=case.known_at).to_text()
    assert "  max_transfer = " in text and "ltv_after = " in text


def test_tiers_bands_that_take_nothing_are_folded(rules):
    text = rules.evaluate("msa-fee", FEB, version="2024-06-04").to_text()
    # 4,130,000 average: 2,500,000 x 2% + 1,630,000 x 1.5% a year; the 1% and 0.5% bands take nothing
    assert "          2,500,000 to 10,000,000 at 0.015: 1,630,000 x 0.015 = 24,450.000" in text
    assert "          (2 bands above take nothing)" in text
    assert "10,000,000 to 25,000,000" not in text
    assert "  asset_value_fee = 5,711.23 (money)" in text   # 74,450 x 28 / 365
