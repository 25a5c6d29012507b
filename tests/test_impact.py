"""`policy impact` (DESIGN section 6): a population decided under two versions. The totals
are the hand-worked fees of the msa-fee case files (each file shows its working), summed by
hand; the same bytes come out of one process, small chunks and N processes."""
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.report.impact import as_json, order_of
from engine.run import impact
from engine.run.cases import load_cases

ROOT = Path(__file__).resolve().parent.parent
OLD, NEW = "2024-06-04", "2024-06-11"


def _facts(rules, name):
    return next(c.facts for c in load_cases(rules) if c.policy == "msa-fee" and c.name == name)


@pytest.fixture(scope="module")
def population(rules, tmp_path_factory):
    """Line 1 all-four-tiers (28,664.38 -> 0.00, basis asset_value), 2 february-three-accounts
    (5,711.23 -> 4,360.00, basis asset_value), 3 minimum-fee (500.00 -> 500.00, basis
    minimum), 4 not JSON, 5 empty, 6 february again, 7 facts the schema refuses."""
    lines = [json.dumps(_facts(rules, "all-four-tiers")), json.dumps(_facts(rules, "february-three-accounts")),
             json.dumps(_facts(rules, "minimum-fee")), "{", "", json.dumps(_facts(rules, "february-three-accounts")),
             json.dumps({"month": "2024-13", "team": {"vip_level": 3}, "sub_accounts": []})]
    path = tmp_path_factory.mktemp("population") / "teams.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(capsys, *args):
    code = main(["impact", "msa-fee", OLD, NEW, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_totals_counts_and_moves_are_the_hand_worked_ones(population, capsys):
    code, out, _ = _run(capsys, "--population", str(population))
    assert code == 0
    report = json.loads(out)
    assert (report["population"], report["failed"], report["changed"]) == (7, 3, 3)
    fee = report["numbers"]["fee"]
    # 28,664.38 + 5,711.23 + 500.00 + 5,711.23 = 40,586.84; 0.00 + 4,360.00 + 500.00 + 4,360.00 = 9,220.00
    assert (fee["old_total"], fee["new_total"], fee["delta"]) == ("40586.84", "9220.00", "-31366.84")
    assert (fee["increased"], fee["decreased"], fee["unchanged"]) == (0, 3, 1)
    assert fee["largest_decrease"] == {"line": 1, "old": "28664.38", "new": "0.00"}
    assert fee["largest_increase"] is None
    # a key one version lacks: its total under the other, and no moves
    assert report["numbers"]["maintenance_fee"]["old_total"] is None
    # 0.00 + 1,000.00 (two accounts below 100,000) + 500.00 + 1,000.00
    assert report["numbers"]["maintenance_fee"]["new_total"] == "2500.00"
    assert report["categories"]["basis"] == {"asset_value -> (absent)": 3, "minimum -> (absent)": 1}
    assert [f["line"] for f in report["failures"]] == [4, 5, 7]
    assert report["failures"][0]["error"].startswith("column 2: not valid JSON")   # no version: it is not JSON
    assert report["failures"][1]["error"] == "an empty line: expected one facts object"
    assert report["failures"][2]["error"].startswith(f"under {OLD}: month")   # the schema's, with its path
    assert list(report)[:6] == ["policy", "old", "new", "population", "failed", "changed"]


def test_the_same_bytes_in_small_chunks_and_in_two_processes(population, capsys, monkeypatch):
    _, whole, _ = _run(capsys, "--population", str(population))
    monkeypatch.setattr(impact, "CHUNK", 2)
    _, chunked, _ = _run(capsys, "--population", str(population))
    _, two, _ = _run(capsys, "--population", str(population), "--workers", "2")
    assert chunked == whole and two == whole


def test_tallies_merge_to_the_same_report_however_the_lines_are_cut(rules):
    """Random populations (the case facts with their amounts scaled) cut at random points:
    merged partitions give the report of one partition of all the lines."""
    rng = random.Random(7)
    base = [_facts(rules, n) for n in ("all-four-tiers", "february-three-accounts", "minimum-fee")]
    lines = []
    for n in range(1, 61):
        facts = json.loads(json.dumps(rng.choice(base)))
        for account in facts["sub_accounts"]:
            for day in account["daily"]:
                day["asset_value"] = str(Decimal(day["asset_value"]) * rng.choice([1, 2, 3, 7]) / 4)
        lines.append((n, json.dumps(facts) if rng.random() > 0.05 else "not json"))
    order = order_of(*rules.versions("msa-fee"))
    whole = as_json(impact.partition(rules, "msa-fee", OLD, NEW, lines), order)
    for _ in range(5):
        cuts = sorted(rng.sample(range(1, len(lines)), 4))
        parts = [lines[a:b] for a, b in zip([0, *cuts], [*cuts, len(lines)])]
        tallies = [impact.partition(rules, "msa-fee", OLD, NEW, part) for part in parts]
        rng.shuffle(tallies)   # any order of merging
        total = tallies[0]
        for t in tallies[1:]:
            total.merge(t)
        assert as_json(total, order) == whole
    assert whole["population"] == 60 and whole["failed"] > 0


def test_tallies_of_other_rules_do_not_merge(rules):
    a = impact.partition(rules, "msa-fee", OLD, NEW, [])
    b = impact.partition(rules, "msa-fee", NEW, OLD, [])
    with pytest.raises(ValueError, match="a worker evaluated other rules"):
        a.merge(b)


def test_a_missing_file_and_an_unknown_version_are_one_line_and_exit_2(capsys, tmp_path):
    code, _, err = _run(capsys, "--population", str(tmp_path / "none.jsonl"))
    assert code == 2 and "--population: cannot read" in err and len(err.strip().splitlines()) == 1
    assert main(["impact", "msa-fee", OLD, "2024-06-12", "--population", str(tmp_path / "x")]) == 2
    assert "2024-06-12" in capsys.readouterr().err


def test_the_reviewers_page_is_one_self_contained_file(population, capsys):
    code, page, _ = _run(capsys, "--population", str(population), "--format", "html")
    assert code == 0 and page.startswith("<!doctype html>")
    assert "<svg" in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "fee: the largest falls (3 of 3 lines)" in page and "What the data changes" in page
    assert "<td>team.vip_level</td>" not in page and "<th>team.vip_level</th>" in page   # a key input, one level down
    assert "down by 20,000 to under 50,000: 1 line" in page   # line 1: -28,664.38, the histogram's tooltip
    assert "sha256:" in page   # the two versions, exactly
    assert "40,586.84" in page and "9,220.00" in page
    code, text, _ = _run(capsys, "--population", str(population), "--format", "text")
    assert code == 0 and "40,586.84" in text
    assert not any(line.startswith(("#", "|")) for line in text.splitlines())   # plain text, not Markdown


# -- on a Dask cluster ---------------------------------------------------------------------------------

def test_a_dask_local_cluster_gives_the_same_bytes(population, capsys):
    pytest.importorskip("distributed")
    _, whole, _ = _run(capsys, "--population", str(population))
    code, on_dask, err = _run(capsys, "--population", str(population), "--scheduler", "local", "--workers", "2")
    assert code == 0 and on_dask == whole, err


def test_an_unreachable_scheduler_is_one_line_and_exit_2(population, capsys, monkeypatch):
    pytest.importorskip("distributed")
    import socket
    from engine.run import impact_dask
    monkeypatch.setattr(impact_dask, "CONNECT_WITHIN", "1s")
    with socket.socket() as probe:   # a port on 127.0.0.1 where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = _run(capsys, "--population", str(population), "--scheduler", f"tcp://127.0.0.1:{port}")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in err


def test_a_worker_that_dies_fails_the_run_without_a_report(population, capsys, monkeypatch):
    """A worker process killed mid-run (here: one that exits as it starts a chunk): the run
    says so, and no partial report is written."""
    monkeypatch.setattr(impact, "_worker_partition", _die)
    code, out, err = _run(capsys, "--population", str(population), "--workers", "2")
    assert code == 2 and out == "" and "a worker process died, so there is no report" in err


def _die(*_args):
    import os
    os._exit(9)


def test_the_progress_line_says_lines_rate_and_time_left(tmp_path, capsys):
    from engine.cli.common import Progress
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"{}\n" * 1000)
    with open(path, "rb") as stream:
        shown = Progress(stream)
        stream.read(750)   # 750 of 3,000 bytes read: a quarter
        shown.shown = shown.start = shown.clock() - 30   # 30 s in, and not throttled
        shown(250, 3)
    line = capsys.readouterr().err
    assert "250 lines, 3 failed, 8 a second, 25% read, about 1 min 30 s left" in line


def test_a_dask_worker_that_dies_fails_the_run_without_a_report(rules, population):
    pytest.importorskip("distributed")
    import dask
    from engine.errors import RunError
    from engine.run import impact_dask

    def dies(*_args):   # shipped to the worker by value; kills its process
        import os
        os._exit(9)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), open(population, "rb") as stream:
        with pytest.raises(RunError, match="the Dask run failed, so there is no report: KilledWorker"):
            impact_dask.run(rules, "msa-fee", OLD, NEW, stream, None, None, "local", 1, task=dies)


def test_an_existing_dask_cluster_gives_the_same_bytes(population, capsys):
    """--scheduler tcp://...: a cluster started here (on 127.0.0.1, stopped here), as an
    existing one; its worker gets the rule files from the job, not from a folder."""
    pytest.importorskip("distributed")
    import warnings
    from dask.distributed import LocalCluster
    _, whole, _ = _run(capsys, "--population", str(population))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, silence_logs=50)
    try:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        code, out, err = _run(capsys, "--population", str(population), "--scheduler", cluster.scheduler_address)
    finally:
        cluster.close()
    assert code == 0 and out == whole, err


# -- found in review -------------------------------------------------------------------------------

def test_whole_numbers_count_and_a_number_turned_text_is_a_change_not_compared():
    from engine.run.impact import Tally
    t = Tally("p", ("a", "x"), ("b", "y"))
    t.add(1, {"days": 30, "fee": Decimal(5), "ok": True}, {"days": 31, "fee": "waived", "ok": True}, ())
    t.add(2, {"days": 30, "fee": Decimal(5), "ok": True}, {"days": 30, "fee": Decimal(5), "ok": False}, ())
    report = as_json(t, ["days", "fee", "ok"])
    assert report["numbers"]["days"]["old_total"] == "60" and report["numbers"]["days"]["increased"] == 1
    fee = report["numbers"]["fee"]
    assert (fee["old_total"], fee["new_total"], fee["unchanged"], fee["not_compared"]) == ("10", "5", 1, 1)
    assert report["changed"] == 1   # line 1: days and fee; line 2's change is a yes/no, in categories
    assert report["categories"]["ok"] == {"true -> false": 1, "true -> true": 1}


def test_the_reviewers_document_does_not_depend_on_merge_order():
    from engine.report.document import to_markdown
    from engine.report.impact import document
    from engine.run.impact import Tally

    def part(line, result_old, result_new):
        t = Tally("p", ("a", "x"), ("b", "y"))
        t.add(line, result_old, result_new, ())
        return t
    a = lambda: part(1, {"fee": Decimal(1)}, {"fee": Decimal(2)})      # noqa: E731
    b = lambda: part(2, {"extra": Decimal(1)}, {"extra": Decimal(3)})  # noqa: E731
    one, two = a().merge(b()), b().merge(a())
    assert to_markdown(document(one, ["fee", "extra"], None, None, False)) == \
        to_markdown(document(two, ["fee", "extra"], None, None, False))


def test_line_numbers_from_pandas_and_lines_that_are_not_objects(rules):
    class Int64(int):   # what pandas gives for a line column (numpy.int64 is not an int subclass, but int() takes it)
        pass
    tally = impact.partition(rules, "msa-fee", OLD, NEW, [(Int64(1), "[1]"), (Int64(2), "3")])
    report = as_json(tally, [])
    assert [type(f["line"]) for f in report["failures"]] == [int, int]
    assert [f["error"] for f in report["failures"]] == ["expected a JSON object at the top level, found [1]",
                                                         "expected a JSON object at the top level, found 3"]
    json.dumps(report)


def _other_rules(policy, old, new, lines, as_of, known_at):
    from engine.run import batch
    tally = impact.partition(batch._WORKER["rules"], policy, old, new, lines, as_of, known_at)
    tally.new = (tally.new[0], "sha256:other")
    return tally


def test_a_worker_with_other_rules_fails_the_run_cleanly(population, capsys, monkeypatch):
    monkeypatch.setattr(impact, "_worker_partition", _other_rules)
    code, out, err = _run(capsys, "--population", str(population), "--workers", "2")
    assert code == 2 and out == "" and "a worker evaluated other rules" in err and "internal error" not in err
