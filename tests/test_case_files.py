"""Case and chart files: their schemas, the modeline of every YAML file under rules/, files
the engine would never read, and `policy test POLICY/CASE [--explain]`. (Bad case and chart
files, each with its exact errors, are in tests/bad/cases/ and tests/bad/charts/.)"""
import shutil

import pytest

from engine.check import schema as schemacheck
from engine.cli.main import main
from engine.load import layout, modeline
from engine.load.yamlfile import load_yaml

from conftest import ROOT


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize("name", ["case-file.schema.json", "chart-file.schema.json"])
def test_schemas_are_valid_draft_2020_12(name):
    from jsonschema import Draft202012Validator
    Draft202012Validator.check_schema(schemacheck.load_schema(ROOT / "schemas" / name))


def test_every_shipped_yaml_file_has_the_modeline_of_its_kind():
    root = ROOT / "rules"
    files = layout.yaml_files(root)
    kinds = {layout.kind_of(root, p) for p in files}
    assert kinds == {"rule", "shared", "case", "chart"}
    for path in files:
        kind = layout.kind_of(root, path)
        first = path.read_text(encoding="utf-8").splitlines()[0]
        # written out here rather than taken from the engine: the line an editor reads
        want = {"rule": "../../schemas/rule-file.schema.json",
                "shared": "../../schemas/rule-file.schema.json#/$defs/shared_file",
                "case": "../../../schemas/case-file.schema.json",
                "chart": "../../../schemas/chart-file.schema.json"}[kind]
        assert first == f"# yaml-language-server: $schema={want}", path
        assert modeline.check(root, path, str(path), kind) == ([], [])


def test_every_shipped_case_and_chart_fits_its_schema():
    for kind, name in (("cases", "case-file"), ("charts", "chart-file")):
        validator = schemacheck.validator_for(schemacheck.load_schema(ROOT / "schemas" / f"{name}.schema.json"))
        for path in sorted((ROOT / "rules").glob(f"*/{kind}/*.yaml")):
            doc = load_yaml(path.read_bytes(), str(path)).data
            assert list(schemacheck.explain(validator, doc)) == [], path


def test_modeline_found_only_before_content():
    assert modeline.find(b"# a comment\n# yaml-language-server: $schema=x.json\nkey: 1\n") == (2, 33, "x.json")
    assert modeline.find(b"key: 1\n# yaml-language-server: $schema=x.json\n") is None
    assert modeline.find(b"") is None


def test_validate_counts_cases_and_charts(capsys):
    code, out, _ = run(capsys, "validate", "--rules", str(ROOT / "rules"))
    cases = len(list((ROOT / "rules").glob("*/cases/*.yaml")))
    charts = len(list((ROOT / "rules").glob("*/charts/*.yaml")))
    assert code == 0
    assert f" versions, {cases} cases, {charts} chart{'s' * (charts != 1)} in " in out
    assert ": warning: " not in out   # every modeline is there


@pytest.mark.parametrize("where", ["msa-fee/case/typo.yaml", "msa-fee/cases/deeper/typo.yaml", "notes.yaml",
                                   "_shared/old/ratios.yaml", "msa-fee/cases/typo.yml"])
def test_a_yaml_file_the_engine_never_reads_is_an_error(capsys, tmp_path, where):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    stray = tmp_path / "rules" / where
    stray.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "rules" / "msa-fee" / "cases" / "minimum-fee.yaml", stray)
    code, out, err = run(capsys, "validate", "--rules", str(tmp_path / "rules"))
    assert code == 1 and out == ""
    assert err.startswith(str(stray))
    assert ("never read" in err) and (".yml" in err if where.endswith(".yml") else "cases <policy>/cases/" in err)


def _versions(policy, case):
    """The versions a case names, read from its file."""
    path = ROOT / "rules" / policy / "cases" / f"{case}.yaml"
    return list(load_yaml(path.read_bytes(), str(path)).data["versions"])


def test_policy_test_one_case(capsys):
    versions = _versions("msa-fee", "minimum-fee")
    code, out, _ = run(capsys, "test", "msa-fee/minimum-fee", "--rules", str(ROOT / "rules"))
    assert code == 0
    assert out.splitlines() == [f"PASS  msa-fee {v}  minimum-fee" for v in versions] + \
        [f"cases: {len(versions)} passed, 0 failed"]


def test_policy_test_one_case_and_a_whole_policy(capsys):
    whole = sum(len(load_yaml(p.read_bytes(), str(p)).data["versions"])
                for p in (ROOT / "rules" / "vip-loan-collateral" / "cases").glob("*.yaml"))
    code, out, _ = run(capsys, "test", "msa-fee/minimum-fee.yaml", "vip-loan-collateral", "--rules", str(ROOT / "rules"))
    assert code == 0
    assert out.count("  minimum-fee") == len(_versions("msa-fee", "minimum-fee"))
    assert out.count("vip-loan-collateral") == whole


def test_policy_test_explain(capsys):
    code, out, _ = run(capsys, "test", "msa-fee/minimum-fee", "--explain", "--rules", str(ROOT / "rules"))
    assert code == 0
    # by hand (the case's comment): one sub-account averaging 10,000 over September 2024:
    # 2024-06-04: max(16.44, 0.00, 500) = the 500 minimum; 2024-06-11: one maintenance fee of 500
    assert out.count("how it was computed") == len(_versions("msa-fee", "minimum-fee"))
    assert out.count("      result\n") == len(_versions("msa-fee", "minimum-fee"))
    assert "        fee                        500.00\n" in out
    assert "basis                      minimum" in out
    assert "[MISSING_DAYS]" in out


@pytest.mark.parametrize("target, message", [
    ("msa-fee/minimum-fe", "no case 'minimum-fe' in msa-fee; did you mean 'minimum-fee'?"),
    ("msa-fe/minimum-fee", "unknown policy 'msa-fe'; did you mean 'msa-fee'?"),
])
def test_policy_test_unknown_target_exit_2(capsys, target, message):
    code, out, err = run(capsys, "test", target, "--rules", str(ROOT / "rules"))
    assert code == 2 and out == ""
    assert message in err


def test_policy_test_one_case_while_another_is_broken(capsys, tmp_path):
    """An editor at work on one case can run another."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    broken = tmp_path / "rules" / "msa-fee" / "cases" / "all-four-tiers.yaml"
    broken.write_text(broken.read_text().replace("result:", "results:", 1))
    code, _, _ = run(capsys, "test", "msa-fee/minimum-fee", "--rules", str(tmp_path / "rules"))
    assert code == 0
    code, _, err = run(capsys, "test", "msa-fee", "--rules", str(tmp_path / "rules"))
    assert code == 1 and "all-four-tiers.yaml" in err and "unknown key 'results'; did you mean 'result'?" in err


@pytest.mark.parametrize("written, problem", [
    ('fee: 500', None),                                             # unquoted: by value, 500 is 500.00
    ('fee: 500.000', None),
    ('fee: 501', "result.fee: expected 501 (compared by value), found \"500.00\""),
    ('fee: "500.00"', None),                                        # quoted: as text, decimals included
    ('fee: "500"', "result.fee: expected \"500\", found \"500.00\""),
])
def test_a_number_unquoted_compares_by_value_quoted_as_text(capsys, tmp_path, written, problem):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    case = tmp_path / "rules" / "msa-fee" / "cases" / "minimum-fee.yaml"
    # by hand (the case's comment): the 2024-06-11 fee of this case is one maintenance fee, 500.00
    case.write_text(case.read_text().replace('fee: "500.00"}', written + "}"))
    assert written in case.read_text()
    code, out, _ = run(capsys, "test", "msa-fee/minimum-fee", "--rules", str(tmp_path / "rules"))
    assert code == (0 if problem is None else 1)
    if problem:
        assert f"      {problem}" in out.splitlines()


MAP_RULE = """\
policy: rates
version: v1
title: A result that is a map
source: {document: made up for the tests, date: "2020-01-01"}
published: "2020-01-01T00:00:00Z"
effective_from: "2020-01-01"
facts_schema: rates.facts.json
inputs:
  rates: {path: rates}
  total: {path: total}
result:
  rates: rates
  total: total
"""


@pytest.mark.parametrize("expected, problem", [
    ('{rates: {BTC: "0.5", ETH: "1"}}', None),                   # a map result compared as a map
    ('{rates: {BTC: "0.5", ETH: "2"}}', "FAIL"),
    ('{total: {amount: "3"}}', "'total' is a value (optional decimal), not an object"),
])
def test_a_case_may_expect_a_map_where_the_result_is_one(capsys, tmp_path, expected, problem):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "rates.facts.json").write_text(
        '{"type": "object", "properties": {"rates": {"type": "object", "additionalProperties": {"type": "number"}},'
        ' "total": {"type": "number"}}}')
    (tmp_path / "rules" / "rates" / "cases").mkdir(parents=True)
    (tmp_path / "rules" / "rates" / "v1.yaml").write_text(MAP_RULE)
    (tmp_path / "rules" / "rates" / "cases" / "two.yaml").write_text(
        "description: two rates\nfacts: {rates: {BTC: 0.5, ETH: 1}, total: 3}\nas_of: \"2021-01-01\"\n"
        f"versions:\n  v1: {{result: {expected}}}\n")
    code, out, err = run(capsys, "test", "rates", "--rules", str(tmp_path / "rules"))
    if problem is None:
        assert code == 0 and out.startswith("PASS")
    elif problem == "FAIL":
        assert code == 1 and "result.rates.ETH: expected \"2\", found \"1\"" in out
    else:
        assert code == 1 and problem in err


def test_true_and_false_are_not_1_and_0_in_a_case(capsys, tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    case = tmp_path / "rules" / "msa-fee" / "cases" / "minimum-fee.yaml"
    # by hand (the case's comment): team VIP 3 is below VIP 7, so no trading fee applies: false
    case.write_text(case.read_text().replace('fee: "500.00"}', 'fee: "500.00", sub_accounts: [{trading_fee_applies: 0}]}'))
    code, out, _ = run(capsys, "test", "msa-fee/minimum-fee", "--rules", str(tmp_path / "rules"))
    assert code == 1 and "      result.sub_accounts[0].trading_fee_applies: expected 0, found false" in out


def test_cases_in_a_folder_with_no_rule_file_are_an_error(capsys, tmp_path):
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    typo = tmp_path / "rules" / "msa_fee" / "cases"
    typo.mkdir(parents=True)
    shutil.copyfile(ROOT / "rules" / "msa-fee" / "cases" / "minimum-fee.yaml", typo / "minimum-fee.yaml")
    code, out, err = run(capsys, "validate", "--rules", str(tmp_path / "rules"))
    assert code == 1 and out == ""
    assert err == (f"{tmp_path / 'rules' / 'msa_fee'}: cases or charts of no policy: this folder has no rule file "
                   "(<policy>/<version>.yaml), so they never run; did you mean 'msa-fee'?\n")


def test_hidden_files_are_not_read_and_links_are_followed(capsys, tmp_path):
    (tmp_path / "real").mkdir()
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.move(tmp_path / "rules" / "msa-fee", tmp_path / "real" / "msa-fee")
    (tmp_path / "rules" / "msa-fee").symlink_to(tmp_path / "real" / "msa-fee", target_is_directory=True)
    cases = tmp_path / "rules" / "msa-fee" / "cases"
    (cases / ".draft.yaml").write_text("not: [a case")          # hidden: an editor's or macOS's file
    (tmp_path / "rules" / "msa-fee" / "._2024-06-11.yaml").write_bytes(b"\x00\x05")
    code, out, err = run(capsys, "validate", "--rules", str(tmp_path / "rules"))
    assert (code, err) == (0, "")
    (tmp_path / "rules" / "msa-fee" / "case").mkdir()             # under the link, a case never read
    shutil.copyfile(cases / "minimum-fee.yaml", tmp_path / "rules" / "msa-fee" / "case" / "minimum-fee.yaml")
    code, out, err = run(capsys, "validate", "--rules", str(tmp_path / "rules"))
    assert code == 1 and "msa-fee/case/minimum-fee.yaml: this file is never read" in err
    (tmp_path / "rules" / "msa-fee" / "case" / "minimum-fee.yaml").unlink()
    (tmp_path / "rules" / "msa-fee" / "2030-01-01.yaml").symlink_to(tmp_path / "nowhere.yaml")
    code, out, err = run(capsys, "validate", "--rules", str(tmp_path / "rules"))
    assert code == 1 and err.strip().endswith("2030-01-01.yaml: a broken link: it leads to no file")


def test_modeline_after_a_byte_order_mark_and_by_a_wrong_path(tmp_path):
    root = tmp_path / "rules"
    (root / "p" / "cases").mkdir(parents=True)
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "case-file.schema.json").write_text("{}")
    case = root / "p" / "cases" / "c.yaml"
    case.write_bytes(b"\xef\xbb\xbf# yaml-language-server: $schema=../../../schemas/case-file.schema.json\n")
    assert modeline.check(root, case, "c.yaml", "case") == ([], [])
    case.write_text("# yaml-language-server: $schema=../../schemas/case-file.schema.json\n")   # one level short
    errors, [warning] = modeline.check(root, case, "c.yaml", "case")
    assert errors == [] and "the modeline's path does not lead to" in warning.message
    assert warning.message.endswith("# yaml-language-server: $schema=../../../schemas/case-file.schema.json")
