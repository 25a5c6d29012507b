"""The decision service under load: `policy serve` started on 127.0.0.1, a bounded number of
requests from N concurrent clients, then stopped. Prints throughput and p50/p99 latency for
an msa-fee and an LTV decision, beside the in-process rate, and appends them to
bench/results.md (--out elsewhere).

    .venv/bin/python bench/serve.py [--clients 8] [--requests 2000] [--workers 1]
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = {
    "msa-fee": ("rules/msa-fee/cases/february-three-accounts.facts.json", "2024-06-04"),
    "institutional-loan-ltv": ("rules/institutional-loan-ltv/cases/faq-worked-example.facts.json", "2024-12-05"),
}
KNOWN_AT = "2025-01-01T00:00:00Z"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()
        return answer.status


def load(url: str, body: bytes, clients: int, requests: int):
    """(seconds, latencies, errors) of `requests` POSTs from `clients` threads."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    left = [requests]

    def client():
        while True:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            t = time.perf_counter()
            try:
                ok = post(url, body) == 200
            except Exception:
                ok = False
            elapsed = time.perf_counter() - t
            with lock:
                latencies.append(elapsed)
                errors[0] += not ok

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, errors[0]


def in_process_rate(policy: str, facts: dict, version: str, seconds: float = 2.0) -> float:
    """Decisions a second in this process, as the server makes them (JSON text out)."""
    from engine import load_rules
    rules = load_rules()
    n, end = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        rules.evaluate(policy, facts, version=version, known_at=KNOWN_AT).to_json(indent=None, trace=False)
        n += 1
    return n / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="per policy")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default=str(HERE / "results.md"))
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "engine.cli.main", "serve", "--port", str(port)]
    if args.workers > 1:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    rows = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"the server did not start: {server.stderr.read().decode()[-500:]}")
                time.sleep(0.1)
        for policy, (path, version) in QUESTIONS.items():
            facts = json.loads((ROOT / path).read_text())
            body = json.dumps({"facts": facts, "version": version, "known_at": KNOWN_AT}).encode()
            url = f"http://127.0.0.1:{port}/v1/decisions/{policy}"
            load(url, body, args.clients, min(200, args.requests))   # warm up
            seconds, latencies, errors = load(url, body, args.clients, args.requests)
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            rate = in_process_rate(policy, facts, version)
            rows.append((policy, args.requests / seconds, statistics.median(latencies) * 1000, p99 * 1000, errors,
                         rate))
    finally:
        server.terminate()
        server.wait(10)
    lines = ["", f"## The decision service under load ({args.clients} clients, {args.requests} requests a policy, "
                 f"{args.workers} worker{'s' if args.workers > 1 else ''}; bench/serve.py)", "",
             "| policy | requests/s | p50 ms | p99 ms (target < 20 for msa-fee) | errors | in-process decisions/s "
             "| served / in-process per worker (target >= 70%) |", "|---|---|---|---|---|---|---|"]
    for policy, rps, p50, p99, errors, rate in rows:
        share = rps / args.workers / rate
        lines.append(f"| {policy} | {rps:,.0f} | {p50:.1f} | {p99:.1f} "
                     f"{'' if policy != 'msa-fee' else ('ok' if p99 < 20 else 'MISSED')} | {errors} | {rate:,.0f} "
                     f"| {share:.0%} {'ok' if share >= 0.7 else 'MISSED'} |")
    text = "\n".join(lines)
    print(text)
    with open(args.out, "a") as f:
        f.write(text + "\n")
    return 0 if all(r[4] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
