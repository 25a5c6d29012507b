"""The decision service under load: `policy serve` started on 127.0.0.1, a bounded number of
requests from N concurrent clients, then stopped. Prints throughput and p50/p99 latency for
an msa-fee and an LTV decision, beside the in-process rate, and appends them to
bench/results.md (--out elsewhere).

    .venv/bin/python bench/serve.py [--clients 8] [--requests 2000] [--workers 1]
"""
from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
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
BATCH = 100   # lines a batch request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request_bytes(path: str, body: bytes, kind: str = "application/json") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {kind}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class Connection:
    """One client: a keep-alive connection with at most one request outstanding."""

    def __init__(self, port: int, left: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.left, self.buffer, self.sent_at = left, b"", 0.0

    def answered(self) -> bytes | None:
        """The status line of the answer once it is whole in the buffer (which it leaves)."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buffer[:end]
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        if len(self.buffer) < end + 4 + length:
            return None
        self.buffer = self.buffer[end + 4 + length:]
        return head.split(b"\r\n")[0]


def load(port: int, path: str, body: bytes, clients: int, requests: int, kind: str = "application/json"):
    """(seconds, latencies, failures) of `requests` POSTs from `clients` concurrent
    keep-alive connections, each with one request outstanding at a time. The load generator
    shares the machine with the server, so it does as little as it can: one thread, one
    selector, the request's bytes built once, an answer read as far as its status and
    Content-Length."""
    request = request_bytes(path, body, kind)
    latencies: list[float] = []
    failures: list[str] = []
    selector = selectors.DefaultSelector()
    start = time.perf_counter()
    for i in range(clients):
        share = requests // clients + (i < requests % clients)
        if share:
            conn = Connection(port, share)
            selector.register(conn.sock, selectors.EVENT_READ, conn)
            conn.sent_at = time.perf_counter()
            conn.sock.sendall(request)
    open_ = len(selector.get_map())
    while open_:
        for key, _ in selector.select(timeout=30) or [(None, None)]:
            if key is None:
                raise SystemExit("no answer in 30 s")
            conn = key.data
            try:
                chunk = conn.sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                failures.extend(["the server closed the connection"] * conn.left)
                selector.unregister(conn.sock)
                open_ -= 1
                continue
            conn.buffer += chunk
            status = conn.answered()
            if status is None:
                continue
            latencies.append(time.perf_counter() - conn.sent_at)
            if not status.startswith(b"HTTP/1.1 200"):
                failures.append(status.decode("latin-1"))
            conn.left -= 1
            if conn.left:
                conn.sent_at = time.perf_counter()
                conn.sock.sendall(request)
            else:
                selector.unregister(conn.sock)
                conn.sock.close()
                open_ -= 1
    return time.perf_counter() - start, latencies, failures


def in_process_rates(policy: str, facts: dict, version: str, seconds: float = 2.0) -> tuple[float, float]:
    """Decisions a second in this process (JSON text out, as the server writes it), with the
    facts as JSON text (what a service embedding the engine is given, as the server is) and
    as a dict already read, medians of 5 rounds each, interleaved."""
    from engine import load_rules
    rules = load_rules()
    text = json.dumps(facts)

    def rate(given) -> float:
        n, start = 0, time.perf_counter()
        end = start + seconds / 5
        while time.perf_counter() < end:
            rules.evaluate(policy, given, version=version, known_at=KNOWN_AT).to_json(indent=None, trace=False)
            n += 1
        return n / (time.perf_counter() - start)
    rounds = [(rate(text), rate(facts)) for _ in range(5)]
    return statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds)


def in_process_batch_rate(policy: str, lines: list[bytes], version: str) -> float:
    """Batch lines a second in this process, as `policy eval --batch` decides them."""
    from engine import load_rules
    from engine.run import batch
    from engine.run.ruleset import _parse_known_at
    rules = load_rules()
    options = {"version": version, "as_of": None, "known_at": _parse_known_at(KNOWN_AT), "trace": False}
    rates = []
    for _ in range(5):
        start = time.perf_counter()
        for number, line in enumerate(lines, 1):
            batch.decide_line(rules, policy, number, line, options)
        rates.append(len(lines) / (time.perf_counter() - start))
    return statistics.median(rates)


def pin(pid: int, cpu: int) -> bool:
    """Keep a process on one CPU (Linux), so that the server and the load generator do not
    take turns on both cores; False where it cannot be done."""
    try:
        os.sched_setaffinity(pid, {cpu})
        return True
    except (AttributeError, OSError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000, help="per policy")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-pin", action="store_true",
                        help="leave the server and the load generator unpinned (by default, with 1 worker, the "
                             "server runs on CPU 0 and this process on CPU 1)")
    parser.add_argument("--out", default=str(HERE / "results.md"))
    args = parser.parse_args()
    port = free_port()
    command = [sys.executable, "-m", "engine.cli.main", "serve", "--port", str(port)]
    if args.workers > 1:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pinned = args.workers == 1 and not args.no_pin and (os.cpu_count() or 1) >= 2 and pin(server.pid, 0) \
        and pin(0, 1)
    rows, batches = [], []
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
            where = f"/v1/decisions/{policy}"
            load(port, where, body, args.clients, min(400, args.requests))   # warm up
            seconds, latencies, failures = load(port, where, body, args.clients, args.requests)
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
            if pinned:
                pin(0, 0)   # the in-process rate on the core the server had
            text_rate, dict_rate = in_process_rates(policy, facts, version)
            if pinned:
                pin(0, 1)
            rows.append((policy, args.requests / seconds, statistics.median(latencies) * 1000 if latencies else
                         float("nan"), p99 * 1000, len(failures), text_rate, dict_rate))
            for failure in sorted(set(failures))[:3]:
                print(f"{policy}: {failure}", file=sys.stderr)
            # the same question as batches of BATCH lines a request (POST /v1/batch)
            lines = [json.dumps(facts).encode()] * BATCH
            count = max(40, args.requests // 25)
            where = f"/v1/batch/{policy}?version={version}&known_at={KNOWN_AT}"
            seconds, _latencies, failures = load(port, where, b"\n".join(lines) + b"\n", args.clients, count,
                                                 "application/x-ndjson")
            if pinned:
                pin(0, 0)
            batch_rate = in_process_batch_rate(policy, lines, version)
            if pinned:
                pin(0, 1)
            batches.append((policy, count * BATCH / seconds, len(failures), batch_rate))
    finally:
        server.terminate()
        server.wait(10)
    lines = ["", f"## The decision service under load ({args.clients} clients, {args.requests:,} requests a policy, "
                 f"{args.workers} worker{'s' if args.workers > 1 else ''}"
                 f"{', server and load generator each pinned to a core' if pinned else ''}; bench/serve.py, "
                 f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             "In-process: `RuleSet.evaluate` then `to_json`, in the bench's process, with the facts as JSON text "
             "(as the server is given them; the target's measure) and as a dict already read.", "",
             "| policy | requests/s | p50 ms | p99 ms (target < 20 for msa-fee) | errors | in-process/s, text "
             "| in-process/s, dict | served / in-process per worker (target >= 70%) |",
             "|---|---|---|---|---|---|---|---|"]
    for policy, rps, p50, p99, errors, text_rate, dict_rate in rows:
        share = rps / args.workers / text_rate
        lines.append(f"| {policy} | {rps:,.0f} | {p50:.1f} | {p99:.1f} "
                     f"{'' if policy != 'msa-fee' else ('ok' if p99 < 20 else 'MISSED')} | {errors} "
                     f"| {text_rate:,.0f} | {dict_rate:,.0f} "
                     f"| {share:.0%} {'ok' if share >= 0.7 else 'MISSED'} (of the dict rate: {rps / args.workers / dict_rate:.0%}) |")
    lines += ["", f"Batches of {BATCH} lines a request (`POST /v1/batch/<policy>`), against `policy eval --batch`'s "
                  "per-line rate in-process:", "",
              "| policy | lines/s served | errors | in-process lines/s | served / in-process per worker |",
              "|---|---|---|---|---|"]
    for policy, rate, errors, batch_rate in batches:
        lines.append(f"| {policy} | {rate:,.0f} | {errors} | {batch_rate:,.0f} | {rate / args.workers / batch_rate:.0%} |")
    text = "\n".join(lines)
    print(text)
    with open(args.out, "a") as f:
        f.write(text + "\n")
    return 0 if all(r[4] == 0 for r in rows) and all(b[2] == 0 for b in batches) else 1


if __name__ == "__main__":
    sys.exit(main())
