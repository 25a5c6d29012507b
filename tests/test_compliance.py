"""The compliance workflow: render, diff (data and outcomes, with a chart), coverage."""
from decimal import Decimal

from engine import load_rules
from engine.cli.main import main
from engine.report.chart import chart, chart_files
from engine.report.diff import data_diff, outcome_diff
from engine.report.document import to_html, to_markdown
from engine.report.render import render

from conftest import ROOT

RULES = load_rules(ROOT / "rules")
OLD, NEW = (RULES.versions("msa-fee")[0], RULES.versions("msa-fee")[1])


def test_render_shows_tiers_formulas_and_flags_assumptions():
    md = to_markdown(render(OLD))
    assert "| 2,500,000 | 10,000,000 | 1.5% |" in md   # a tier row; 0.015 'ratio per year' as the announcement writes it
    assert "| asset_value_fee |  | annual_asset_value_fee(total_average_asset_value) * days_in_month / days_per_year |" in md
    assert "| ⚠ days_per_year | 365 | days | assumed: " in md                  # the assumed value, flagged
    assert "## Assumed values (2)" in md
    html = to_html(render(NEW))
    assert html.count('<tr class="flag">') == 4   # 2 in the assumptions table, 2 in the parameters
    assert html.count('<tr class="flag"><td>⚠ ') == 4   # marked in words too, not by colour alone


def test_render_shows_decision_tables_as_grids():
    md = to_markdown(render(RULES.versions("institutional-loan-ltv")[0]))
    assert "Hit policy: first (the first row that matches). Called as risk_state(ltv, previous)." in md
    assert "| row | ltv (test) | previous (test) | state |" in md
    assert "| 3 | >= margin_call_ltv | liquidation | liquidation |" in md
    assert "| 1 | [portfolio_margin, portfolio_margin_pro] | = sum(maintenance.margin) |" in md


def test_notes_of_tables_conditions_and_shared_values_reach_the_document():
    md = to_markdown(render(OLD))
    assert "unit: ratio per year; source: Asset Value Based Fee table" in md      # a table's unit and source
    assert "| Minimum Asset Holding Requirement |" in md.replace("source: ", "")   # a condition's source
    ltv = to_markdown(render(RULES.versions("institutional-loan-ltv")[0]))
    assert "## Shared data, by date" in ltv
    assert "| ⚠ collateral_ratio (rules/_shared/collateral-ratios.yaml) | 2024-12-05 | 2024-12-05T00:00:00Z |" in ltv


def test_data_diff_names_what_changed():
    changes = {(c.what, c.name): c for c in data_diff(OLD, NEW)}
    assert changes[("parameter", "minimum_fee")].change == "removed"
    assert changes[("parameter", "maintenance_fee_per_account")].new == (
        "500 [unit: USDT per sub-account and month; source: account maintenance fee of 500 USDT for each MSA below "
        "the balance threshold]")
    # the same rate, no longer stated by the source: the diff shows the assumption
    spot = changes[("parameter", "spot_rate")]
    assert spot.old.startswith("0.002% [unit: ratio of daily spot volume; source: Trading Volume Based Fee table")
    assert spot.new.startswith("0.002% [unit: ratio of daily spot volume; assumed: the stored copies of the revision")
    fee = changes[("formula", "fee")]
    assert (fee.change, fee.old, fee.new) == ("changed", "max(asset_value_fee, trading_volume_fee, minimum_fee)",
                                              "maintenance_fee + trading_fee")
    assert changes[("version", "published")].new == "2024-06-11T13:00:00Z"
    assert ("version", "effective_from") not in changes          # both take effect 2024-07-01
    assert changes[("tiers", "annual_asset_value_fee")].change == "removed"


def test_outcome_diff_by_hand():
    rows, count, changed, errors = outcome_diff(RULES, "msa-fee", "2024-06-04", "2024-06-11")
    assert (count, errors) == (5, [])
    got = {(r.case, r.key): (r.old, r.new, r.delta) for r in rows}
    # worked by hand in the cases: 5,711.23 -> 1,000 + 3,360; 28,664.38 -> 0; 500 -> 1,000.01
    assert got == {("february-three-accounts", "fee"): ("5711.23", "4360.00", Decimal("-1351.23")),
                   ("all-four-tiers", "fee"): ("28664.38", "0.00", Decimal("-28664.38")),
                   ("rounding-half-up", "fee"): ("500.00", "1000.01", Decimal("500.01"))}


def test_chart_points_by_hand():
    [path] = chart_files(RULES, "msa-fee")
    svg, caption = chart(RULES, "msa-fee", ["2024-06-04", "2024-06-11"], path)
    assert svg.startswith("<svg") and "2024-06-04" in svg and "2024-06-11" in svg
    assert "Monthly MSA fee against" in caption


def test_chart_series_ends_by_hand(monkeypatch):
    import engine.report.chart as d
    seen = {}
    monkeypatch.setattr(d, "line_chart", lambda series, x, y: seen.update(series) or "<svg/>")
    [path] = chart_files(RULES, "msa-fee")
    d.chart(RULES, "msa-fee", ["2024-06-04", "2024-06-11"], path)
    # x = 0 (no assets): 2024-06-04 max(0, 3,360 trading, 500) = 3,360;
    #   2024-06-11 three sub-accounts below 100,000: 1,500 + 3,360 = 4,860
    assert seen["2024-06-04"][0] == (Decimal("0.00"), Decimal("3360.00"))
    assert seen["2024-06-11"][0] == (Decimal("0.00"), Decimal("4860.00"))
    # x = 50,000,000: 50,000 + 112,500 + 150,000 + 125,000 = 437,500 a year x 28/365 = 33,561.64;
    #   every sub-account is then above 100,000: only the trading fee, 3,360
    assert seen["2024-06-04"][-1] == (Decimal("50000000.00"), Decimal("33561.64"))
    assert seen["2024-06-11"][-1] == (Decimal("50000000.00"), Decimal("3360.00"))


def test_cli_diff_and_render(capsys):
    assert main(["diff", "msa-fee", "2024-06-04", "2024-06-11", "--rules", str(ROOT / "rules")]) == 0
    out = capsys.readouterr().out
    assert "3 of 5 cases change; the largest move is fee in all-four-tiers: 28,664.38 → 0.00 (-28,664.38)" in out
    assert main(["diff", "msa-fee", "2024-06-04", "2024-06-11", "--format", "html", "--rules", str(ROOT / "rules")]) == 0
    assert "<svg" in capsys.readouterr().out
    assert main(["render", "portfolio-margin-eligibility", "--version", "2022-04-18", "--format", "html",
                 "--rules", str(ROOT / "rules")]) == 0
    assert "<h1>portfolio-margin-eligibility 2022-04-18" in capsys.readouterr().out


def test_coverage_lists_what_no_case_reaches(capsys):
    assert main(["test", "--coverage", "--rules", str(ROOT / "rules")]) == 0
    out = capsys.readouterr().out
    # msa-fee 2024-06-04: 13 formulas, 4 tier rows, 3 conditions, less DATE_OUTSIDE_MONTH (bad facts only)
    assert "coverage msa-fee 2024-06-04: 95% (19 of 20)" in out
    assert "      not reached: condition DATE_OUTSIDE_MONTH (sub_accounts.daily)" in out
    # every row of the LTV's four tables is reached by some case, wherever it is called from
    ltv = out.split("coverage institutional-loan-ltv 2024-12-05:")[1].split("\ncoverage ")[0]
    assert "not reached: table row" not in ltv and "not reached: tier row" not in ltv
    # the facts conditions are exercised by tests/bad/ltv-facts, not by cases
    assert "      not reached: condition TRANSFER_SOURCE_NOT_FOUND" in out


def test_documents_read_as_a_reviewer_reads_them():
    """Found reading render and diff in a browser: ratios as percentages, condition messages
    as sentences, no empty header row, plain text that is not Markdown."""
    from engine.report.document import to_text
    md = to_markdown(render(NEW))
    assert "| ⚠ spot_rate | 0.002% | ratio of daily spot volume |" in md   # "0.002%", as the announcement has it
    old = to_markdown(render(OLD))
    assert "monthly average asset value ‹average_asset_value› is below the required ‹minimum_balance›" in old
    assert "{" not in old.split("## Conditions")[1].split("##")[0]   # no template left in a message
    assert "{average_asset_value:,.2f}" not in old
    html = to_html(render(NEW))
    assert "<thead><tr><th></th>" not in html   # the version's name-value table has no empty header row
    assert "- **policy**: msa-fee" in md   # and in Markdown it is a list
    text = to_text(render(NEW))
    assert not any(line.startswith(("#", "|")) for line in text.splitlines())
    assert "policy          msa-fee" in text


def test_inputs_name_their_facts_paths_as_json_paths():
    md = to_markdown(render(NEW))
    assert "| asset_value | sub_accounts[].daily[].asset_value | decimal | 0 |" in md
    ltv = to_markdown(render(RULES.versions("institutional-loan-ltv")[0]))
    assert "| amount | accounts[].wallets[].assets: each entry's value | decimal |  |" in ltv
