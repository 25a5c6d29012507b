"""Every YAML case under each version it names: the hand-worked values, then a snapshot
of the whole JSON decision, one folder per policy version (tests/snapshots/<policy>/<version>/).

A snapshot changes only when a decision changes: review the diff like a code change
(see README, section 'Snapshots')."""
from pathlib import Path

import pytest

from engine import load_rules
from engine.run.cases import load_cases, run_case

from conftest import ROOT

_RULES = load_rules(ROOT / "rules")
PARAMS = [pytest.param(case, str(v), id=f"{case.policy}-{v}-{case.name}")
          for case in load_cases(_RULES) for v in case.expect]


def test_every_version_has_cases():
    covered = {(c.policy, str(v)) for c, v in (p.values for p in PARAMS)}
    for policy, versions in _RULES.policies.items():
        for v in versions:
            assert (policy, v.version) in covered, f"{policy} {v.version} has no YAML case"


@pytest.mark.parametrize("case,version", PARAMS)
def test_case(case, version, snapshot):
    outcome = run_case(_RULES, case, version)
    assert outcome.passed, "\n".join(outcome.problems)
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / case.policy / version
    snapshot.assert_match(outcome.decision.to_json() + "\n", f"{case.name}.json")
