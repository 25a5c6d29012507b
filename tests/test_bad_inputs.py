"""Bad rule files and bad facts, Catala style: each input beside the exact error lines
the CLI must print for it (`<name>.expected`).

tests/bad/rules/<name>.yaml: a complete msa-fee 2024-06-11 file with one thing broken
(tests/bad/ltv-rules/: institutional-loan-ltv 2024-12-05); `policy validate` must exit 1.
tests/bad/cases/ and tests/bad/charts/: a case or chart file added to the shipped msa-fee
policy; `policy validate` must exit 1. tests/bad/facts/<name>.json: facts for `policy eval
msa-fee --version 2024-06-11`, tests/bad/ltv-facts/ for institutional-loan-ltv; exit 2. An expectation states what the engine should
say; where it does not yet, the case is a strict xfail with the reason."""
import shutil
from pathlib import Path

import pytest

from engine.cli.main import main

from conftest import ROOT

BAD = Path(__file__).resolve().parent / "bad"

RULE_XFAIL: dict = {}
FACTS_XFAIL: dict = {}


def _cases(folder, ext, xfail):
    return [pytest.param(src, id=src.stem,
                         marks=[pytest.mark.xfail(reason=xfail[src.stem], strict=True)] if src.stem in xfail else [])
            for src in sorted((BAD / folder).glob(f"*.{ext}"))]


def _expected(src: Path) -> list[str]:
    return src.with_suffix(".expected").read_text(encoding="utf-8").splitlines()


def test_every_case_has_an_expectation():
    inputs = {p.with_suffix("") for p in BAD.glob("*/*") if p.suffix in (".yaml", ".json")}
    expectations = {p.with_suffix("") for p in BAD.glob("*/*.expected")}
    assert inputs == expectations
    assert set(RULE_XFAIL) <= {p.stem for p in BAD.glob("rules/*.yaml")}
    assert set(FACTS_XFAIL) <= {p.stem for p in BAD.glob("facts/*.json")}


RULE_FOLDERS = {"rules": ("msa-fee", "2024-06-11"), "warnings": ("msa-fee", "2024-06-11"),
                "ltv-rules": ("institutional-loan-ltv", "2024-12-05")}


def validate_as_msa_fee_revision(src, tmp_path, monkeypatch, capsys):
    """`policy validate` on a rules folder whose only file is src, as msa-fee/2024-06-11.yaml
    (tests/bad/ltv-rules/: as institutional-loan-ltv/2024-12-05.yaml), with the shipped
    shared files beside it."""
    policy, version = RULE_FOLDERS[src.parent.name]
    folder = tmp_path / "rules" / policy
    folder.mkdir(parents=True)
    shutil.copyfile(src, folder / f"{version}.yaml")
    shutil.copytree(ROOT / "rules" / "_shared", tmp_path / "rules" / "_shared")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    monkeypatch.chdir(tmp_path / "rules")
    code = main(["validate", "--rules", str(tmp_path / "rules")])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.mark.parametrize("src", _cases("rules", "yaml", RULE_XFAIL) + _cases("ltv-rules", "yaml", {}))
def test_bad_rule_file(src, tmp_path, monkeypatch, capsys):
    code, out, err = validate_as_msa_fee_revision(src, tmp_path, monkeypatch, capsys)
    assert code == 1
    assert err.splitlines() == _expected(src)


@pytest.mark.parametrize("src", _cases("cases", "yaml", {}) + _cases("charts", "yaml", {}))
def test_bad_case_or_chart_file(src, tmp_path, monkeypatch, capsys):
    """The file beside the two msa-fee versions the corpus was written for, and the facts
    file the shipped cases use (no shipped case or chart: a later version does not change
    these messages)."""
    shipped, policy = ROOT / "rules" / "msa-fee", tmp_path / "rules" / "msa-fee"
    (policy / "cases").mkdir(parents=True)
    (policy / "charts").mkdir()
    for name in ("2024-06-04.yaml", "2024-06-11.yaml", "cases/february-three-accounts.facts.json"):
        shutil.copyfile(shipped / name, policy / name)
    shutil.copytree(ROOT / "rules" / "_shared", tmp_path / "rules" / "_shared")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    shutil.copyfile(src, policy / src.parent.name / src.name)
    monkeypatch.chdir(tmp_path / "rules")
    code = main(["validate", "--rules", str(tmp_path / "rules")])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 1
    assert err.splitlines() == _expected(src)


FACTS_FOLDERS = {"facts": ("msa-fee", "2024-06-11"), "ltv-facts": ("institutional-loan-ltv", "2024-12-05"),
                 "pm-facts": ("portfolio-margin-eligibility", "2024-12-03")}


@pytest.mark.parametrize("src", [p for folder in FACTS_FOLDERS for p in _cases(folder, "json", FACTS_XFAIL)])
def test_bad_facts(src, monkeypatch, capsys):
    policy, version = FACTS_FOLDERS[src.parent.name]
    monkeypatch.chdir(src.parent)
    code = main(["eval", policy, "--facts", src.name, "--version", version, "--rules", str(ROOT / "rules")])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 2
    assert out == ""
    assert err.splitlines() == _expected(src)


@pytest.mark.parametrize("src", _cases("warnings", "yaml", {}))
def test_rule_file_warning(src, tmp_path, monkeypatch, capsys):
    """Suspicious but not wrong: validate passes (exit 0) and prints the warning."""
    code, out, err = validate_as_msa_fee_revision(src, tmp_path, monkeypatch, capsys)
    assert (code, err) == (0, "")
    assert "warning: no case runs version 2024-06-11" in out   # the fixture has no cases: said, and left out below
    assert [line for line in out.splitlines() if ": warning: " in line and "no case runs" not in line] == _expected(src)
