"""The benchmark: the engine against hand-written Decimal Python (the limit) and GoRules
zen-engine (a peer), in one run, as ratios. Prints a table and writes bench/results.md.

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python bench/run.py [--quick]

Times are medians (and p99) of many runs on this machine; compare the ratios, which hold
better than the absolute numbers on a shared, noisy machine.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from engine import load_rules  # noqa: E402
from handwritten import HANDWRITTEN  # noqa: E402

CASES = {
    ("msa-fee", "2024-06-04"): "rules/msa-fee/cases/february-three-accounts.facts.json",
    ("institutional-loan-ltv", "2024-12-05"): "rules/institutional-loan-ltv/cases/faq-worked-example.facts.json",
    ("portfolio-margin-eligibility", "2024-12-03"): None,
}
PM_FACTS = {"vip_level": 0, "spot_volume_30d": "0", "futures_volume_30d": "0",
            "wallet_balances": {"cross_margin": "40000", "usdm_futures": "50000", "coinm_futures": "15000"},
            "quiz_passed": True}
TARGETS = {"engine / hand-written": 2.0, "zen / engine": 20.0, "load ms": 150.0, "eval ms": 300.0,
           "batch ltv per s": 20000.0}


def timed(fn, seconds: float, at_least: int = 20) -> list[float]:
    """Per-call times (s) of fn, run for about `seconds`."""
    times, end = [], time.perf_counter() + seconds
    while len(times) < at_least or time.perf_counter() < end:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def stats(times):
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def zen_peer():
    try:
        import zen
    except ImportError:
        return None
    graph = zen.ZenEngine().create_decision((HERE / "zen-msa-fee-2024-06-04.json").read_text())

    def decide(facts):
        # zen computes on its own numbers: the harness hands it floats and the day count
        year, month = (int(x) for x in facts["month"].split("-"))
        import calendar
        inp = {"days": calendar.monthrange(year, month)[1], "team_vip": facts["team"]["vip_level"],
               "sub_accounts": [{"investor_vip_level": s["investor_vip_level"],
                                 "daily": [{k: float(v) for k, v in d.items() if k != "date"} for d in s["daily"]]}
                                for s in facts["sub_accounts"]]}
        return graph.evaluate(inp)["result"]
    return decide


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shorter runs (for CI): same table, noisier numbers")
    parser.add_argument("--out", default=str(HERE / "results.md"))
    args = parser.parse_args()
    seconds = 0.3 if args.quick else 2.0
    rows, notes = [], []

    # loading and validating all shipped rules, each time in a new process (no cache warm)
    def fresh_load(check: bool):
        probe = ("import time; t = time.perf_counter(); from engine import load_rules; t1 = time.perf_counter(); "
                 f"load_rules(check_schemas={check}); t2 = time.perf_counter(); print((t1 - t) * 1000, (t2 - t1) * 1000)")
        runs = [tuple(map(float, subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                                                text=True, check=True).stdout.split()))
                for _ in range(3 if args.quick else 7)]
        return statistics.median(x[0] for x in runs), statistics.median(x[1] for x in runs)
    import_ms, load_ms = fresh_load(False)
    _, validate_ms = fresh_load(True)
    rules = load_rules()

    # `policy eval` as a whole command (a new process each time)
    cmd = [sys.executable, "-m", "engine.cli.main", "eval", "msa-fee", "--facts",
           str(ROOT / CASES[("msa-fee", "2024-06-04")])]
    eval_times = timed(lambda: subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True), seconds * 2, 5)
    eval_ms = statistics.median(eval_times) * 1000

    zen = zen_peer()
    for (policy, version), path in CASES.items():
        facts = json.loads((ROOT / path).read_text()) if path else PM_FACTS
        engine = stats(timed(lambda: rules.evaluate(policy, facts, version=version), seconds))
        hand = stats(timed(lambda: HANDWRITTEN[(policy, version)](facts), seconds))
        row = {"policy": f"{policy} {version}", "engine": engine, "hand": hand, "zen": None}
        if zen and policy == "msa-fee":
            row["zen"] = stats(timed(lambda: zen(facts), seconds))
        rows.append(row)

    # where an engine decision's time goes, stage by stage
    from engine.check import facts as check_facts
    from engine.load import jsonfacts
    from engine.run import items as item_tree
    from engine.run.evaluate import run as run_plan
    stages = []
    for (policy, version), path in list(CASES.items())[:2]:
        facts = json.loads((ROOT / path).read_text())
        v = next(x for x in rules.versions(policy) if x.version == version)
        clean = jsonfacts.clean(facts, "f")
        t_clean = stats(timed(lambda: jsonfacts.clean(facts, "f"), seconds / 2))[0]
        t_schema = stats(timed(lambda: check_facts.validate(v, clean, "f"), seconds / 2))[0]
        t_items = stats(timed(lambda: item_tree.build_items(v, clean, "f"), seconds / 2))[0]
        t_both = stats(timed(lambda: run_plan(v, *item_tree.build_items(v, clean, "f")), seconds / 2))[0]
        decision = rules.evaluate(policy, facts, version=version)
        def trace_and_json():
            decision.__dict__.pop("trace", None)   # the trace is cached on first read: build it anew
            return decision.to_json(indent=None)
        t_trace = stats(timed(trace_and_json, seconds / 2))[0]
        stages.append((f"{policy} {version}", t_clean, t_schema, t_items, t_both - t_items, t_trace,
                       len(decision.trace)))

    # batch: institutional-loan-ltv decisions a second, one core, as `policy eval --batch` does
    # them (parse a line, decide, write a JSON line without the trace)
    line = (ROOT / CASES[("institutional-loan-ltv", "2024-12-05")]).read_text().replace("\n", " ")
    n = 300 if args.quick else 2000
    t = time.perf_counter()
    for _ in range(n):
        rules.evaluate("institutional-loan-ltv", line, version="2024-12-05").to_json(indent=None, trace=False)
    per_second = n / (time.perf_counter() - t)

    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} "
               f"({platform.python_implementation()}), {platform.platform()}")
    lines = [f"# Benchmark results", "", f"- run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}"
             f"{' (--quick)' if args.quick else ''}", f"- machine: {machine}", "",
             "## Per decision (median / p99, microseconds)", "",
             "| policy | engine | hand-written | zen-engine | engine / hand-written (target <= 2) "
             "| zen / engine (target >= 20) |", "|---|---|---|---|---|---|"]
    for r in rows:
        e, h, z = r["engine"], r["hand"], r["zen"]
        ratio = e[0] / h[0]
        zen_cells = (f"{z[0] * 1e6:,.0f} / {z[1] * 1e6:,.0f}", f"{z[0] / e[0]:.2f}") if z else ("-", "-")
        lines.append(f"| {r['policy']} | {e[0] * 1e6:,.0f} / {e[1] * 1e6:,.0f} | {h[0] * 1e6:,.0f} / {h[1] * 1e6:,.0f} "
                     f"| {zen_cells[0]} | {ratio:.1f} {'ok' if ratio <= 2 else 'MISSED'} | {zen_cells[1]} "
                     f"{'' if not z else ('ok' if z[0] / e[0] >= 20 else 'MISSED')} |")
    lines += ["", "## Where an engine decision's time goes (median, microseconds)", "",
              "| policy | facts numbers checked | facts schema | item tree | formulas and conditions "
              "| trace built and JSON written | trace entries |", "|---|---|---|---|---|---|---|"]
    for name, *times, entries in stages:
        lines.append(f"| {name} | " + " | ".join(f"{t * 1e6:,.0f}" for t in times) + f" | {entries} |")
    lines += ["", "## Whole operations", "", "| what | measured | target | |", "|---|---|---|---|",
              f"| load and check all shipped rules, as `policy eval` does (a new process; import "
              f"{import_ms:,.0f} ms before it) | {load_ms:,.0f} ms | <= 150 ms | {'ok' if load_ms <= 150 else 'MISSED'} |",
              f"| the same and the facts schemas themselves checked against JSON Schema, as `policy validate` "
              f"does | {validate_ms:,.0f} ms | (<= 150 ms) | {'ok' if validate_ms <= 150 else 'over'} |",
              f"| `policy eval` as a whole command | {eval_ms:,.0f} ms | <= 300 ms | {'ok' if eval_ms <= 300 else 'MISSED'} |",
              f"| batch institutional-loan-ltv, one core | {per_second:,.0f} decisions/s | >= 20,000/s | "
              f"{'ok' if per_second >= 20000 else 'MISSED'} |", ""]
    if not zen:
        lines.append("zen-engine is not installed (`pip install -e '.[bench]'`): the peer column is empty.")
    lines += ["The engine's decision includes what the hand-written code does not: schema checks of the "
              "facts, a trace of every named value, warnings and the version's provenance.", ""]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
