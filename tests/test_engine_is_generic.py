"""The one rule of the architecture: engine/ knows no policy by name or number."""
import re

from conftest import ROOT

POLICY_WORDS = re.compile(r"msa|vip|haircut|ltv|binance|sub_account|collateral|portfolio|\bfee\b|\b500\b|0\.85",
                          re.IGNORECASE)


def test_no_policy_words_in_engine():
    hits = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
            for p in sorted((ROOT / "engine").rglob("*.py"))
            for i, line in enumerate(p.read_text().splitlines(), 1) if POLICY_WORDS.search(line)]
    assert hits == []


def test_no_float_on_the_engine_s_paths():
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in sorted((ROOT / "engine").rglob("*.py"))
            for i, line in enumerate(p.read_text().splitlines(), 1)
            if re.search(r"\bfloat\(|parse_float=float", line)]
    assert hits == []


def test_no_engine_module_is_over_450_lines():
    """Small modules, one idea each (issue 11): a module that grows past this splits."""
    engine = ROOT / "engine"
    long = {str(p.relative_to(engine)): n for p in engine.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert long == {}
