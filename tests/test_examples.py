"""Policies written from the README alone, kept working:

- the README's own walk-through ("Writing a new policy"): its facts schema, rule file and
  case are taken from the README's code blocks, and the outputs it quotes are checked;
- tests/examples/withdrawal-fee/: the policy a new user wrote from the README alone (a
  per-asset fee table, a percentage above a threshold, a cap, a waiver for VIP 8 and up),
  with seven cases worked out by hand in their comments."""
import json
import re
import shutil
from pathlib import Path

import pytest

from engine.cli.main import main

from conftest import ROOT

EXAMPLES = Path(__file__).resolve().parent / "examples"


def run(capsys, *argv, stdin=None, monkeypatch=None):
    if stdin is not None:
        import io
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_the_withdrawal_fee_a_new_user_wrote(capsys, tmp_path):
    shutil.copytree(EXAMPLES / "withdrawal-fee", tmp_path, dirs_exist_ok=True)
    rules = str(tmp_path / "rules")
    code, out, _ = run(capsys, "validate", "--cases", "--rules", rules)
    assert code == 0 and out.splitlines()[-1].endswith("; every case passes")
    code, out, _ = run(capsys, "test", "--coverage", "--rules", rules)
    assert code == 0
    assert "coverage withdrawal-fee 2025-11-01: 100% (15 of 15)" in out   # every table and tier row reached
    assert out.splitlines()[-1] == "cases: 7 passed, 0 failed"


def _walkthrough() -> dict:
    """The code blocks of the README's "Writing a new policy", by what they hold."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing a new policy", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    return {"schema": next(b for lang, b in blocks if lang == "json"),
            "rule": next(b for lang, b in blocks if lang == "yaml" and b.lstrip().startswith("# yaml-language-server")
                         and "policy: order-fee" in b),
            "case": next(b for lang, b in blocks if lang == "yaml" and "versions:" in b and "facts:" in b),
            "section": " ".join(section.split())}   # its prose, line breaks aside


@pytest.fixture
def walkthrough(tmp_path):
    w = _walkthrough()
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "order-fee.facts.json").write_text(w["schema"])
    json.loads(w["schema"])
    (tmp_path / "rules" / "order-fee" / "cases").mkdir(parents=True)
    (tmp_path / "rules" / "order-fee" / "2025-01-01.yaml").write_text(w["rule"])
    (tmp_path / "rules" / "order-fee" / "cases" / "three-orders.yaml").write_text(w["case"])
    return tmp_path / "rules", w["section"]


def test_the_readme_walkthrough_works_as_written(capsys, monkeypatch, walkthrough):
    rules, section = walkthrough
    code, out, _ = run(capsys, "validate", "--rules", str(rules))
    assert code == 0
    assert "2025-01-01.yaml:14:3: assumed: parameter 'minimum_fee' = 0.01: the schedule states no minimum" in out
    code, out, _ = run(capsys, "test", "order-fee/three-orders", "--explain", "--rules", str(rules))
    assert code == 0 and out.startswith("PASS  order-fee 2025-01-01  three-orders")
    code, out, _ = run(capsys, "test", "order-fee", "--coverage", "--rules", str(rules))
    # the README: "(here `fee_rate` rows 1, 2 and 5)"
    assert "(here `fee_rate` rows 1, 2 and 5)" in section
    assert [line.split("(")[0].strip() for line in out.splitlines() if "not reached" in line] == [
        "not reached: table row fee_rate row 1", "not reached: table row fee_rate row 2",
        "not reached: table row fee_rate row 5"]
    # the decision it quotes: 250,000 x 0.0005 = 125.00 (VIP 9, row 5)
    facts = '{"vip_level": 9, "pays_in_bnb": false, "orders": [{"id": "x", "side": "taker", "notional": "250000"}]}'
    assert facts in section
    code, out, _ = run(capsys, "eval", "order-fee", "--facts", "-", "--format", "text", "--rules", str(rules),
                       stdin=facts, monkeypatch=monkeypatch)
    assert code == 0 and "  total_fee  125.00\n" in out and "table fee_rate: row 5" in out
    bad = facts.replace('"taker"', '"takr"')
    code, out, err = run(capsys, "eval", "order-fee", "--facts", "-", "--rules", str(rules),
                         stdin=bad, monkeypatch=monkeypatch)
    quoted = "<stdin>: orders[0].side: expected maker or taker, found \"takr\"; did you mean 'taker'?"
    assert code == 2 and quoted in section and err.strip() == quoted


def test_the_readme_walkthrough_s_gap_message(capsys, walkthrough):
    rules, section = walkthrough
    rule = rules / "order-fee" / "2025-01-01.yaml"
    rule.write_text(rule.read_text().replace('      - [">= 8", -, 0.0005]      # - : any side\n', ""))
    code, _, err = run(capsys, "validate", "--rules", str(rules))
    quoted = section.split("(delete the `\">= 8\"` row: `", 1)[1].split(" ...`)", 1)[0]
    assert code == 1 and quoted in err
