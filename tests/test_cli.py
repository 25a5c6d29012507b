"""The `policy` command against the shipped rules: the contract of DESIGN section 4."""
import io
import json
import shutil
import subprocess
import sys

import pytest

from engine import load_rules
from engine.run.cases import load_cases
from engine.cli.main import main

from conftest import ROOT

RULES = load_rules(ROOT / "rules")
CASE_RUNS = sum(len(c.expect) for c in load_cases(RULES))
FEB = str(ROOT / "rules" / "msa-fee" / "cases" / "february-three-accounts.facts.json")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_validate_ok_lists_assumptions(capsys):
    code, out, _ = run(capsys, "validate", "--rules", str(ROOT / "rules"))
    assert code == 0
    assert f"ok: {len(RULES.policies)} policies, {sum(map(len, RULES.policies.values()))} versions" in out
    # the revision's daily rates are carried over from 2024-06-04 and must be flagged
    assert "2024-06-11.yaml:" in out and "assumed: parameter 'spot_rate' = 0.00002" in out


def test_versions_lists_dates(capsys):
    code, out, _ = run(capsys, "versions", "msa-fee", "--rules", str(ROOT / "rules"))
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split()[:3] == ["2024-06-04", "2024-07-01", "2024-06-04T10:30:00Z"]
    assert lines[2].split()[:3] == ["2024-06-11", "2024-07-01", "2024-06-11T13:00:00Z"]


def test_eval_json_contract(capsys):
    # pinned: a version added later for these dates must not change this test (selection by
    # date is test_version_selection_by_known_at's)
    code, out, _ = run(capsys, "eval", "msa-fee", "--facts", FEB, "--known-at", "2025-01-01T00:00:00Z",
                       "--version", "2024-06-11")
    assert code == 0
    d = json.loads(out)
    assert list(d) == ["policy", "version", "digest", "as_of", "known_at", "result", "trace", "warnings"]
    assert d["policy"] == "msa-fee" and d["version"] == "2024-06-11"
    assert d["digest"].startswith("sha256:") and len(d["digest"]) == 7 + 64
    assert d["as_of"] == "2025-02-28"            # default: last day of the month
    assert d["known_at"] == "2025-01-01T00:00:00Z"
    assert d["result"]["fee"] == "4360.00"       # 1,000 maintenance + 3,360 trading, by hand
    assert set(d["result"]) == {"month", "days_in_month", "total_average_asset_value", "fee", "sub_accounts",
                                "maintenance_fee", "trading_fee"}
    assert set(d["result"]["sub_accounts"][0]) == {"id", "average_asset_value", "trading_fee_applies",
                                                   "maintenance_fee"}


@pytest.mark.parametrize("known_at,version", [
    ("2024-06-05T00:00:00Z", "2024-06-04"),
    ("2024-06-11T12:59:59Z", "2024-06-04"),   # the revision is not yet published
    ("2024-06-11T13:00:00Z", "2024-06-11"),   # published: it wins, same effective date
    ("2024-06-11T15:00:00+02:00", "2024-06-11"),
])
def test_version_selection_by_known_at(capsys, known_at, version):
    code, out, _ = run(capsys, "eval", "msa-fee", "--facts", FEB, "--known-at", known_at)
    assert code == 0
    assert json.loads(out)["version"] == version


def test_pinned_version_and_text(capsys):
    code, out, _ = run(capsys, "eval", "msa-fee", "--facts", FEB, "--version", "2024-06-04", "--format", "text")
    assert code == 0
    assert out.startswith("msa-fee 2024-06-04 (effective 2024-07-01, published 2024-06-04 10:30 UTC)")
    assert "  fee                        5,711.23" in out
    assert "2,500,000 to 10,000,000 at 0.015: 1,630,000 x 0.015" in out


def test_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(open(FEB, "rb").read())))
    code, out, _ = run(capsys, "eval", "msa-fee", "--facts", "-", "--version", "2024-06-11")
    assert code == 0 and json.loads(out)["result"]["fee"] == "4360.00"


@pytest.mark.parametrize("argv,message", [
    (["eval", "msa-fe", "--facts", FEB], "policy: unknown policy 'msa-fe'; did you mean 'msa-fee'? "
                                         f"(policies: {', '.join(sorted(RULES.policies))})"),
    (["eval", "msa-fee", "--facts", FEB, "--as-of", "2024-06-30"],
     "policy: no version of 'msa-fee' is in effect on 2024-06-30 (known at 2025-01-01T00:00:00Z); "
     "the earliest takes effect 2024-07-01"),
    (["eval", "msa-fee", "--facts", FEB, "--known-at", "2024-06-01T00:00:00Z"],
     "policy: no version of 'msa-fee' was published by 2024-06-01T00:00:00Z"),
    (["eval", "msa-fee", "--facts", FEB, "--version", "2024-06-05"],
     "policy: policy 'msa-fee' has no version '2024-06-05'; did you mean '2024-06-04'? "
     f"(versions: {', '.join(v.version for v in RULES.versions('msa-fee'))})"),
    (["eval", "msa-fee", "--facts", FEB, "--as-of", "31/07/2024"],
     "policy: --as-of: expected a date YYYY-MM-DD, found '31/07/2024'"),
    (["eval", "msa-fee", "--facts", "no-such-file.json"],
     "policy: --facts: cannot read no-such-file.json: No such file or directory"),
])
def test_bad_arguments_exit_2(capsys, argv, message):
    if "--known-at" not in argv:
        argv = argv + ["--known-at", "2025-01-01T00:00:00Z"]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.splitlines() == [message]


def test_broken_rules_exit_1_and_nothing_on_stdout(capsys, tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    f = tmp_path / "rules" / "msa-fee" / "2024-06-11.yaml"
    f.write_text(f.read_text().replace("effective_from:", "efective_from:"))
    code, out, err = run(capsys, "eval", "msa-fee", "--facts", FEB, "--rules", str(tmp_path / "rules"))
    assert code == 1 and out == ""
    assert err.strip().endswith("unknown key 'efective_from'; did you mean 'effective_from'?")
    assert err.count("\n") == 1 and "rules/msa-fee/2024-06-11.yaml:16:1: " in err


def test_json_is_byte_identical_across_processes():
    cmd = [sys.executable, "-m", "engine.cli.main", "eval", "msa-fee", "--facts", FEB,
           "--known-at", "2025-01-01T00:00:00Z"]
    outs = {subprocess.run(cmd, capture_output=True, cwd=ROOT, env={"PYTHONHASHSEED": seed, "PATH": ""},
                           check=True).stdout for seed in ("0", "1", "12345")}
    assert len(outs) == 1


def test_policy_test_command(capsys):
    code, out, _ = run(capsys, "test", "--rules", str(ROOT / "rules"))
    assert code == 0
    assert out.splitlines()[-1] == f"cases: {CASE_RUNS} passed, 0 failed"


def test_policy_test_reports_a_failing_case(capsys, tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    case = tmp_path / "rules" / "msa-fee" / "cases" / "minimum-fee.yaml"
    case.write_text(case.read_text().replace('fee: "500.00"\n', 'fee: "499.99"\n', 1))
    code, out, _ = run(capsys, "test", "--rules", str(tmp_path / "rules"))
    assert code == 1
    assert "result.fee: expected \"499.99\", found \"500.00\"" in out
    assert out.splitlines()[-1] == f"cases: {CASE_RUNS - 1} passed, 1 failed"


def test_validate_checks_the_facts_schemas_themselves(capsys, tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    f = tmp_path / "schemas" / "msa-trading-terms.facts.json"
    f.write_text(f.read_text().replace('"type": "object"', '"type": "objekt"', 1))
    code, out, err = run(capsys, "validate", "--rules", str(tmp_path / "rules"))
    assert code == 1
    # in the schema file, at the path inside it, said as the facts errors are
    assert err == (f"{tmp_path / 'schemas' / 'msa-trading-terms.facts.json'}: type: not valid JSON Schema: expected "
                   "one of array, boolean, integer, null, number, object, string, found \"objekt\"; "
                   "did you mean 'object'?\n")
    f.write_text('{"type": "object",}')
    code, out, err = run(capsys, "validate", "--rules", str(tmp_path / "rules"))
    assert (code, err) == (1, f"{f}: not valid JSON: Expecting property name enclosed in double quotes: "
                              "line 1 column 19 (char 18)\n")


def test_rules_that_cannot_decide_exit_4(capsys, tmp_path):
    """An unguarded division by zero is the rules failing on valid facts: exit 4, the rule
    file's position in the message, nothing on stdout (DESIGN section 4)."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    rule = tmp_path / "rules" / "msa-fee" / "2024-06-11.yaml"
    text = rule.read_text()
    rule.write_text(text.replace("sum(daily.asset_value) / days_in_month", "sum(daily.asset_value) / (team_vip_level - 7)"))
    line = text.splitlines().index("      average_asset_value: sum(daily.asset_value) / days_in_month") + 1
    code, out, err = run(capsys, "eval", "msa-fee", "--facts", FEB, "--version", "2024-06-11",
                         "--rules", str(tmp_path / "rules"))
    assert (code, out) == (4, "")   # the February team is VIP 7
    assert err == (f"{tmp_path / 'rules/msa-fee/2024-06-11.yaml'}:{line}:7: formula 'average_asset_value' for "
                   "sub_accounts[a]: division by zero\n")


def test_facts_errors_are_printed_once_and_many_are_counted(capsys, tmp_path):
    facts = json.loads(open(FEB).read())
    facts["month"] = "2025-13"    # read for the default as_of, then checked with the whole schema
    facts["team"]["vip_level"] = "seven"
    facts["sub_accounts"][0]["daily"] = [{"date": f"2025-02-{d:02d}", "asset_value": "-1"} for d in range(1, 26)]
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts))
    code, out, err = run(capsys, "eval", "msa-fee", "--facts", str(path), "--rules", str(ROOT / "rules"))
    lines = err.splitlines()
    assert (code, out) == (2, "")
    assert lines[0] == f'{path}: month: expected a month "YYYY-MM", found "2025-13"'
    assert lines[1] == f'{path}: team.vip_level: expected an integer 0-9, found "seven"'
    assert lines[2].startswith(f"{path}: sub_accounts[0].daily[0].asset_value: expected a non-negative decimal")
    assert len(lines) == 21 and len(set(lines)) == 21
    assert lines[-1] == "policy: ... and 7 more problems in the facts (27 in all)"


def test_validate_cases_is_the_reload_gate(capsys, tmp_path):
    code, out, err = run(capsys, "validate", "--cases", "--quiet", "--rules", str(ROOT / "rules"))
    assert (code, out, err) == (0, "", "")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    rule = tmp_path / "rules" / "msa-fee" / "2024-06-11.yaml"
    rule.write_text(rule.read_text().replace("maintenance_fee_per_account:\n    value: 500",
                                             "maintenance_fee_per_account:\n    value: 600"))
    code, out, err = run(capsys, "validate", "--cases", "--rules", str(tmp_path / "rules"))
    assert code == 1
    case = tmp_path / "rules" / "msa-fee" / "cases" / "february-three-accounts.yaml"
    assert (f"{case}: case 'february-three-accounts' under version 2024-06-11: "
            "result.fee: expected \"4360.00\", found \"4560.00\"") in err.splitlines()
    assert run(capsys, "validate", "--rules", str(tmp_path / "rules"))[0] == 0   # without --cases: the files are valid
