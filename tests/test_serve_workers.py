"""`policy serve --workers 2` as a process on 127.0.0.1, started and stopped here: the
workers answer on one port, their counts are summed in /metrics, they share one decision
log, a reload goes through the supervisor's gate (a broken set is refused and the old
workers go on; a good one replaces every worker), and a worker that dies is replaced."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
if not hasattr(os, "fork") or not Path("/proc").is_dir():
    pytest.skip("--workers forks, and these tests find the workers in /proc", allow_module_level=True)

from test_serve import FEB, KNOWN_AT, ROOT, _admin, _copy_rules, call   # noqa: E402

ASK = {"facts": FEB, "version": "2024-06-04", "known_at": KNOWN_AT}


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def _wait(predicate, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.fixture
def supervised(tmp_path):
    """(the supervisor process, its base URL, its rules folder, its decision log, its stderr file)."""
    import socket
    rules = _copy_rules(tmp_path)
    (tmp_path / "token").write_text("s3cret\n")
    log = tmp_path / "decisions.jsonl"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    errors = open(tmp_path / "stderr.txt", "w+")
    process = subprocess.Popen([sys.executable, "-m", "engine.cli.main", "serve", "--port", str(port), "--workers",
                                "2", "--rules", str(rules), "--decision-log", str(log), "--admin-token-file",
                                str(tmp_path / "token")], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=errors)
    base = f"http://127.0.0.1:{port}"
    try:
        def up():
            try:
                return call(base, "GET", "/health/ready")[0] == 200 and len(_children(process.pid)) == 2
            except OSError:
                assert process.poll() is None, "the supervisor exited"
                return False
        _wait(up, "the workers did not start")
        yield process, base, rules, log, errors
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError("the supervisor did not stop on SIGTERM")
        errors.close()


def _decide_many(base: str, count: int, clients: int = 4) -> list[str]:
    ids, failures = [], []

    def client(n):
        for _ in range(n):
            status, raw = call(base, "POST", "/v1/decisions/msa-fee", ASK)
            (ids if status == 200 else failures).append(json.loads(raw).get("decision_id", raw))
    threads = [threading.Thread(target=client, args=(count // clients,)) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    return ids


def test_two_workers_share_the_port_the_log_and_the_counts(supervised):
    process, base, _rules, log, _errors = supervised
    ids = _decide_many(base, 40)
    assert len(ids) == 40 == len(set(ids))
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(r["decision_id"] for r in logged) == sorted(ids)   # whole lines: none interleaved
    assert {r["result"]["fee"] for r in logged} == {"5711.23"}
    metrics = call(base, "GET", "/metrics")[1].decode()
    counted = [line for line in metrics.splitlines() if line.startswith("policy_decisions_total{")]
    assert counted == ['policy_decisions_total{outcome="ok",policy="msa-fee",version="2024-06-04"} 40.0']
    assert len(_children(process.pid)) == 2


def test_a_broken_reload_is_refused_and_a_good_one_replaces_every_worker(supervised):
    process, base, rules, _log, errors = supervised
    before = json.loads(call(base, "GET", "/v1/status")[1])["digest"]
    workers = _children(process.pid)
    rule = rules / "msa-fee" / "2024-06-11.yaml"
    text = rule.read_text()
    rule.write_text(text.replace("effective_from:", "efective_from:", 1))
    os.kill(process.pid, signal.SIGHUP)   # to the supervisor

    def said():
        errors.flush()
        return "reload refused" in Path(errors.name).read_text()
    _wait(said, "a broken set was not refused on SIGHUP")
    told = Path(errors.name).read_text()
    assert "2024-06-11.yaml" in told and "policy serve: answering on http://127.0.0.1:" in told
    assert "(7 policies, rule set sha256:" in told and "; 2 workers)" in told
    status, answer = _admin(base, "s3cret")   # through a worker, to the supervisor
    assert status == 422 and answer["error"]["code"] == "reload_refused"
    assert _children(process.pid) == workers   # the old workers go on
    assert len(_decide_many(base, 8)) == 8
    assert json.loads(call(base, "GET", "/v1/status")[1])["digest"] == before

    rule.write_text(text + "\n# the same rules, another file digest\n")
    status, answer = _admin(base, "s3cret")
    assert status == 200 and answer["digest"] != before
    _wait(lambda: len(_children(process.pid)) == 2 and not _children(process.pid) & workers,
          "the old workers were not replaced")
    for _ in range(10):   # whichever worker answers: the new set
        assert json.loads(call(base, "GET", "/v1/status")[1])["digest"] == answer["digest"]
    assert f"policy serve: reloaded: rule set {answer['digest']}" in Path(errors.name).read_text()
    metrics = call(base, "GET", "/metrics")[1].decode()
    assert 'policy_reloads_total{outcome="refused"} 2.0' in metrics
    assert 'policy_reloads_total{outcome="activated"} 1.0' in metrics
    assert f'policy_rules_active{{digest="{answer["digest"]}"}} 1.0' in metrics
    assert before not in metrics   # the retired workers' digest is gone


def test_a_worker_that_dies_is_replaced(supervised):
    process, base, _rules, _log, _errors = supervised
    workers = _children(process.pid)
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    _wait(lambda: len(_children(process.pid)) == 2 and victim not in _children(process.pid),
          "the dead worker was not replaced")
    assert len(_decide_many(base, 8)) == 8
