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
TARGETS = {"engine / hand-written": 1.5, "zen / engine": 1.0, "load ms": 150.0, "eval ms": 300.0,
           "batch ltv per s": 20000.0, "batch ltv per s, 2 workers": 35000.0, "50 MB peak MB": 500.0}


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


def ltv_lines(n: int) -> list[bytes]:
    """n facts lines of the LTV worked example, each with its own amounts."""
    base = json.loads((ROOT / CASES[("institutional-loan-ltv", "2024-12-05")]).read_text())
    out = []
    for i in range(n):
        facts = json.loads(json.dumps(base))
        facts["loan"]["principal"] = str(2000000 + i)
        for account in facts["accounts"]:
            for wallet in account["wallets"]:
                wallet["assets"] = {k: f"{v}.{i % 1000:03d}" for k, v in wallet["assets"].items()}
        out.append(json.dumps(facts).encode() + b"\n")
    return out


def big_msa_fee(quick: bool):
    """(size in MB, seconds, peak MB) deciding one msa-fee facts file of about 50 MB (5 with
    --quick) as a batch line, in a new process."""
    import tempfile
    target = 5_000_000 if quick else 50_000_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        with open(path, "w") as f:
            f.write('{"month": "2024-07", "team": {"vip_level": 8}, "sub_accounts": [')
            size, n = 0, 0
            while size < target:
                daily = ", ".join(f'{{"date": "2024-07-{d:02d}", "asset_value": "{1000000 + n * 7 + d}.25", '
                                  f'"spot_volume": "{250000 + d * 13}.5", "futures_volume": "{90000 + n % 1000}.75"}}'
                                  for d in range(1, 32))
                text = f'{", " if n else ""}{{"id": "sub-{n}", "investor_vip_level": {n % 10}, "daily": [{daily}]}}'
                f.write(text)
                size, n = size + len(text), n + 1
            f.write("]}\n")
        mb = path.stat().st_size / 1e6
        probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
                 "subprocess.run([sys.executable, '-m', 'engine.cli.main', 'eval', 'msa-fee', '--batch', sys.argv[1], "
                 "'--version', '2024-06-04', '--known-at', '2025-01-01T00:00:00Z'], check=True, "
                 "stdout=subprocess.DEVNULL); "
                 "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        seconds, peak_kb = subprocess.run([sys.executable, "-c", probe, str(path)], cwd=ROOT, capture_output=True,
                                          text=True, check=True).stdout.split()
    return mb, float(seconds), int(peak_kb) / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shorter runs (for CI): same table, noisier numbers")
    parser.add_argument("--out", default=str(HERE / "results.md"))
    args = parser.parse_args()
    seconds = 0.3 if args.quick else 2.0
    rows = []

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

    # where a decision's time goes in the generated code, and the interpreter beside it
    import decimal
    from engine.run import compiled
    stages = []
    known_at = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for (policy, version), path in CASES.items():
        facts = json.loads((ROOT / path).read_text()) if path else PM_FACTS
        v = next(x for x in rules.versions(policy) if x.version == version).for_dates(known_at.date(), known_at)
        code = v.generated
        saved = decimal.getcontext()
        decimal.setcontext(compiled._context())
        state, _keys, _day = code["read"](facts)
        t_read = stats(timed(lambda: code["read"](facts), seconds / 2))[0]
        t_run = stats(timed(lambda: code["run"](state, 10 ** 30), seconds / 2))[0]
        result, _warnings = code["run"](state, 10 ** 30)
        t_json = stats(timed(lambda: code["result_json"](result), seconds / 2))[0]
        decimal.setcontext(saved)
        t_interp = stats(timed(lambda: rules.evaluate(policy, facts, version=version, generated=False),
                               seconds / 2))[0]
        stages.append((f"{policy} {version}", t_read, t_run, t_json, t_interp))

    # batch: institutional-loan-ltv decisions a second, as `policy eval --batch` makes them
    # (decode and parse a line with duplicate-key checks, decide, write a JSON line without
    # the trace), on lines whose amounts differ (nothing a decision remembers helps the next)
    from engine.run import batch as batch_mod
    n = 3000 if args.quick else 20000
    lines = ltv_lines(n)
    options = {"as_of": None, "known_at": "2025-01-01T00:00:00Z", "version": None, "trace": False}
    out: list = []
    t = time.perf_counter()
    batch_mod.run(rules, "institutional-loan-ltv", iter(lines), out.append, options)
    per_second = n / (time.perf_counter() - t)
    sample = range(0, n, max(1, n // 200))
    identical = all(out[i] == batch_mod.decide_line(rules, "institutional-loan-ltv", i + 1, lines[i],
                                                    {**options, "generated": False})[0] + "\n" for i in sample)
    out2: list = []
    t = time.perf_counter()
    batch_mod.run(rules, "institutional-loan-ltv", iter(lines * 2), out2.append, options, workers=2)
    per_second_2 = 2 * n / (time.perf_counter() - t)   # pool start and rule loading included
    identical = identical and out2[:n] == out

    # a 50 MB msa-fee facts file, one decision (a batch line: no trace), peak memory of the process
    big_mb, big_s, big_peak = big_msa_fee(args.quick)

    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()} "
               f"({platform.python_implementation()}), {platform.platform()}")
    lines = ["# Benchmark results", "", f"- run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC}"
             f"{' (--quick)' if args.quick else ''}", f"- machine: {machine}", "",
             "## Per decision (median / p99, microseconds)", "",
             "| policy | engine | hand-written | zen-engine | engine / hand-written (target <= 1.5) "
             "| zen / engine (target > 1: the engine faster) |", "|---|---|---|---|---|---|"]
    for r in rows:
        e, h, z = r["engine"], r["hand"], r["zen"]
        ratio = e[0] / h[0]
        zen_cells = (f"{z[0] * 1e6:,.0f} / {z[1] * 1e6:,.0f}", f"{z[0] / e[0]:.2f}") if z else ("-", "-")
        lines.append(f"| {r['policy']} | {e[0] * 1e6:,.0f} / {e[1] * 1e6:,.0f} | {h[0] * 1e6:,.0f} / {h[1] * 1e6:,.0f} "
                     f"| {zen_cells[0]} | {ratio:.2f} {'ok' if ratio <= 1.5 else 'MISSED'} | {zen_cells[1]} "
                     f"{'' if not z else ('ok' if z[0] / e[0] > 1 else 'MISSED')} |")
    lines += ["", "## Where a decision's time goes (median, microseconds)", "",
              "Generated code (`policy compile` prints it): `read` checks the facts against their schema and "
              "reads the inputs, `run` computes formulas, conditions and the result, `result_json` writes it; "
              "the interpreter (`generated=False`) is what decides a line the generated code refuses, and "
              "builds the trace.", "",
              "| policy | read | run | result_json | interpreter, whole decision |", "|---|---|---|---|---|"]
    for name, *times in stages:
        lines.append(f"| {name} | " + " | ".join(f"{t * 1e6:,.1f}" for t in times) + " |")
    lines += ["", "## Whole operations", "", "| what | measured | target | |", "|---|---|---|---|",
              f"| load and check all shipped rules, as `policy eval` does (a new process; import "
              f"{import_ms:,.0f} ms before it) | {load_ms:,.0f} ms | <= 150 ms | {'ok' if load_ms <= 150 else 'MISSED'} |",
              f"| the same and the facts schemas themselves checked against JSON Schema, as `policy validate` "
              f"does | {validate_ms:,.0f} ms | (<= 150 ms) | {'ok' if validate_ms <= 150 else 'over'} |",
              f"| `policy eval` as a whole command | {eval_ms:,.0f} ms | <= 300 ms | {'ok' if eval_ms <= 300 else 'MISSED'} |",
              f"| batch institutional-loan-ltv, one core (`policy eval --batch`: parse with duplicate-key "
              f"checks, decide, write) | {per_second:,.0f} decisions/s | >= 20,000/s | "
              f"{'ok' if per_second >= 20000 else 'MISSED'} |",
              f"| the same with `--workers 2` (starting the pool included) | {per_second_2:,.0f} decisions/s | "
              f">= 35,000/s | {'ok' if per_second_2 >= 35000 else 'MISSED'} |",
              f"| batch lines identical to the interpreter's (a sample of {len(sample)}, and 2 workers to 1) | "
              f"{'yes' if identical else 'NO'} | identical | {'ok' if identical else 'MISSED'} |",
              f"| one msa-fee facts file of {big_mb:,.0f} MB (a batch line), peak memory of the process | "
              f"{big_peak:,.0f} MB in {big_s:.1f} s | < 500 MB | {'ok' if big_peak < 500 else 'MISSED'} |", ""]
    if not zen:
        lines.append("zen-engine is not installed (`pip install -e '.[bench]'`): the peer column is empty.")
    lines += ["The engine's decision includes what the hand-written code does not: the facts checked against "
              "their JSON Schema and the engine's limits, the version chosen, warnings, and a trace built when read.",
              ""]
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
