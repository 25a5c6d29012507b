"""The fast facts check says 'valid' exactly when jsonschema does, on mutated facts of
every shipped policy (jsonschema stays the judge; the fast check only skips it)."""
import copy
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from engine import load_rules
from engine.check import schema as schemacheck
from engine.load.jsonfacts import clean
from engine.check.fast import compile_schema

from conftest import ROOT

RULES = load_rules(ROOT / "rules")
SAMPLES = []
for policy, versions in RULES.policies.items():
    for case_file in sorted((ROOT / "rules" / policy / "cases").glob("*.json")):
        SAMPLES.append((versions[-1], json.loads(case_file.read_text(), parse_float=Decimal)))
    from engine.run.cases import load_cases
    for case in load_cases(RULES, [policy])[:3]:
        facts = json.loads(case.facts, parse_float=Decimal) if isinstance(case.facts, bytes) else case.facts
        SAMPLES.append((versions[-1], clean(facts, "x")))

leaves = st.one_of(st.none(), st.booleans(), st.integers(-20, 20), st.text(max_size=12),
                   st.decimals(min_value=-10, max_value=10, places=2, allow_nan=False),
                   st.sampled_from(["2024-07-01", "2024-02-30", "2024-07", "USDT", "spot", "maker", "-1", "0.5",
                                    "portfolio_margin", "cross_margin_pro", "broker", "vip_loan", "1e5",
                                    "USDT\n", "5\n", "2024-07\n", "\u0663"]),
                   st.just([]), st.just({}))


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


@st.composite
def mutated(draw):
    version, facts = draw(st.sampled_from(SAMPLES))
    facts = copy.deepcopy(facts)
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.sampled_from(list(paths(facts))))
        if not where:
            continue
        parent = facts
        for part in where[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[where[-1]] = draw(leaves)
        elif action == "delete":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "id", "date", "type", "amount"]))] = draw(leaves)
    return version, facts


@settings(max_examples=600, deadline=None)
@given(mutated())
def test_fast_check_agrees_with_jsonschema(sample):
    version, facts = sample
    assert version.facts_fast_check(facts) == version.facts_validator.is_valid(facts)


RULE_DOCS = []
for _file in sorted((ROOT / "rules").glob("*/*.yaml")):
    from engine.load.yamlfile import load_yaml
    RULE_DOCS.append(load_yaml(_file.read_bytes(), _file.name).data)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_rule_file_fast_check_agrees_with_jsonschema(data):
    from engine.check import schema as schemacheck
    from engine.check.fast import compile_schema
    from engine.run.ruleset import shipped_dir
    schema = schemacheck.load_schema(shipped_dir("schemas") / "rule-file.schema.json")
    fast, validator = compile_schema(schema), schemacheck.validator_for(schema)
    doc = copy.deepcopy(data.draw(st.sampled_from(RULE_DOCS)))
    for _ in range(data.draw(st.integers(0, 3))):
        where = data.draw(st.sampled_from(list(paths(doc))))
        if not where:
            continue
        parent = doc
        for part in where[:-1]:
            parent = parent[part]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[where[-1]] = data.draw(leaves)
        elif action == "delete":
            del parent[where[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(st.sampled_from(["extra", "value", "expr", "from", "band", "code"]))] = data.draw(leaves)
    assert fast(doc) == validator.is_valid(doc)


@pytest.mark.parametrize("pattern, text, matches", [
    ("^[0-9]+$", "2000000", True),
    ("^[0-9]+$", "2000000\n", False),          # Python's $ would match before the newline
    ("^[A-Z0-9]{2,12}$", "BTC\n", False),
    ("^\\d+$", "\u0663", False),                # an Arabic-Indic digit: not \d in ECMA-262
    ("^\\w+$", "\u00e9", False),
    ("^[\\d.]+$", "1.5", True),
    ("^a\\$$", "a$", True),                     # an escaped $ is a dollar sign
    ("^[$]$", "$", True),                       # and so is one inside a class
    ("^\\s$", "\u00a0", True),                  # ECMA's \s has the no-break space
    ("^x[]$", "x]", False),                     # [] matches nothing in ECMA-262
])
def test_patterns_mean_what_ecma_262_says(pattern, text, matches):
    schema = {"type": "string", "pattern": pattern}
    assert compile_schema(schema)(text) is matches
    assert schemacheck.validator_for(schema).is_valid(text) is matches
