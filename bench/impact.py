"""`policy impact` on a generated population (bench/population.py): the wall time and peak
memory (the whole process tree's resident memory, sampled) of one process, of `--workers
2` and of a Dask LocalCluster of 2 workers; the three reports must be the same bytes, and
their fee totals must be those of the hand-written fees (bench/handwritten.py). Appends a
table to bench/results.md (--out elsewhere).

    .venv/bin/python bench/impact.py [--teams 100000]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

OLD, NEW = "2024-06-04", "2024-06-11"
WAYS = {"one process": [], "--workers 2": ["--workers", "2"], "Dask LocalCluster, 2 workers": [
    "--scheduler", "local", "--workers", "2"]}


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            status = (entry / "status").read_text()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry.name)] = int(line.split()[1]) * 1024
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def timed(command: list[str]) -> tuple[float, int, bytes]:
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    out = []
    import threading
    reader = threading.Thread(target=lambda: out.append(process.stdout.read()))
    reader.start()
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.1)
    reader.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode()[-800:]}")
    return time.perf_counter() - start, peak, out[0]


def hand_totals(path: Path) -> tuple[Decimal, Decimal]:
    from handwritten import msa_fee_2024_06_04, msa_fee_2024_06_11
    old = new = Decimal(0)
    with open(path) as f:
        for line in f:
            facts = json.loads(line, parse_float=Decimal)
            old += msa_fee_2024_06_04(facts)["fee"]
            new += msa_fee_2024_06_11(facts)["fee"]
    return old, new


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=100000)
    parser.add_argument("--out", default=str(HERE / "results.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        population = Path(tmp) / "teams.jsonl"
        with open(population, "w") as f:
            subprocess.run([sys.executable, str(HERE / "population.py"), str(args.teams)], stdout=f, check=True)
        rows, reports = [], {}
        for name, extra in WAYS.items():
            command = [sys.executable, "-m", "engine.cli.main", "impact", "msa-fee", OLD, NEW, "--population",
                       str(population), *extra]
            seconds, peak, out = timed(command)
            reports[name] = out
            rows.append((name, seconds, peak))
            print(f"{name}: {seconds:.1f} s, {peak / 2**20:,.0f} MB", file=sys.stderr)
        same = len(set(reports.values())) == 1
        fee = json.loads(reports["one process"])["numbers"]["fee"]
        old, new = hand_totals(population)
        agree = (Decimal(fee["old_total"]), Decimal(fee["new_total"])) == (old, new)
    workers2 = dict((r[0], r[1]) for r in rows)["--workers 2"]
    dask = dict((r[0], r[1]) for r in rows)["Dask LocalCluster, 2 workers"]
    lines = ["", f"## Population impact ({args.teams:,} msa-fee teams, {OLD} -> {NEW}; bench/impact.py, "
                 f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             "| how | wall time s | lines/s | peak memory MB (the process tree) |", "|---|---|---|---|"]
    for name, seconds, peak in rows:
        lines.append(f"| {name} | {seconds:.1f} | {args.teams / seconds:,.0f} | {peak / 2**20:,.0f} |")
    lines += ["", f"Dask / --workers 2: {dask / workers2:.2f} (target <= 1.5) "
                  f"{'ok' if dask / workers2 <= 1.5 else 'MISSED'}. The three reports are "
                  f"{'the same bytes' if same else 'NOT the same bytes'}. Fee totals {fee['old_total']} -> "
                  f"{fee['new_total']}: {'the hand-written fees agree' if agree else 'the hand-written fees DIFFER'} "
                  f"(bench/handwritten.py)."]
    text = "\n".join(lines)
    print(text)
    with open(args.out, "a") as f:
        f.write(text + "\n")
    return 0 if same and agree else 1


if __name__ == "__main__":
    sys.exit(main())
