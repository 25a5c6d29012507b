"""The decision service through a real server on 127.0.0.1, started and stopped here: the
contract's paths, bodies and error codes (DESIGN section 7)."""
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

uvicorn = pytest.importorskip("uvicorn")

from engine.run.ruleset import RuleStore   # noqa: E402
from engine.serve.app import create_app   # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FEB = json.loads((ROOT / "rules/msa-fee/cases/february-three-accounts.facts.json").read_text())
KNOWN_AT = "2025-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def decision_log(tmp_path_factory):
    from engine.serve.decision_log import DecisionLog
    log = DecisionLog(tmp_path_factory.mktemp("log") / "decisions.jsonl", masks=["/facts/team"])
    yield log
    log.close()


@pytest.fixture(scope="module")
def server(decision_log):
    srv, thread, base = _start(create_app(RuleStore(ROOT / "rules"), max_body=64 * 1024,
                                          decision_log=decision_log))
    yield base
    srv.should_exit = True
    thread.join(10)


def call(base, method, path, body=None, content_type="application/json"):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": content_type} if data is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _start(app):
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    return srv, thread, f"http://127.0.0.1:{srv.servers[0].sockets[0].getsockname()[1]}"


def _spawn(*options):
    """`policy serve` as a process of its own on a free port: (the process, its base URL), once ready."""
    import socket
    import subprocess
    import sys
    with socket.socket() as probe:   # a free port on 127.0.0.1
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "engine.cli.main", "serve", "--port", str(port), *options],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if call(base, "GET", "/health/ready")[0] == 200:
                return process, base
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise AssertionError("the server did not start")
        time.sleep(0.1)


def test_a_decision_is_the_cli_object_plus_its_id(server, rules):
    status, raw = call(server, "POST", "/v1/decisions/msa-fee",
                       {"facts": FEB, "version": "2024-06-04", "known_at": KNOWN_AT})
    assert status == 200
    body = json.loads(raw)
    assert len(body.pop("decision_id")) == 32
    expected = json.loads(rules.evaluate("msa-fee", FEB, version="2024-06-04", known_at=KNOWN_AT)
                          .to_json(indent=None, trace=False))
    assert body == expected and body["result"]["fee"] == "5711.23"   # 74,450 x 28 / 365, as the CLI says
    assert b'"fee": "5711.23"' in raw and "trace" not in body   # Decimals as text, no trace unless asked


def test_explain_adds_the_trace(server):
    status, raw = call(server, "POST", "/v1/decisions/msa-fee",
                       {"facts": FEB, "version": "2024-06-04", "known_at": KNOWN_AT, "explain": True})
    assert status == 200 and any(e["name"] == "fee" for e in json.loads(raw)["trace"])


@pytest.mark.parametrize("path,body,status,code", [
    ("/v1/decisions/msa-fe", {"facts": FEB}, 404, "unknown_policy"),
    ("/v1/decisions/msa-fee", {"facts": FEB, "version": "2024-06-05"}, 404, "unknown_version"),
    ("/v1/decisions/msa-fee", {"facts": {**FEB, "team": {"vip_level": "seven"}}, "version": "2024-06-04"}, 422,
     "bad_facts"),
    ("/v1/decisions/msa-fee", {"facts": FEB, "as_of": "2024-06-30", "known_at": KNOWN_AT}, 422,
     "no_version_in_effect"),
    ("/v1/decisions/msa-fee", b'{"facts": {', 400, "bad_request"),
    ("/v1/decisions/msa-fee", b'{"facts": 1}', 400, "bad_request"),
    ("/v1/decisions/msa-fee", {"facts": FEB, "extra": 1}, 400, "bad_request"),
    ("/v1/decisions/msa-fee", b'{"facts": {"a": 1, "a": 2}}', 422, "bad_facts"),
    ("/v1/decisions/msa-fee", b"[" * 100 + b"]" * 100, 400, "bad_request"),
    ("/v1/decisions/msa-fee", b"x" * (64 * 1024 + 1), 413, "body_too_large"),
    ("/v1/decisions/msa-fee", {"facts": FEB, "version": ["2024-06-04"]}, 400, "bad_request"),
    ("/v1/decisions/msa-fee", {"facts": FEB, "explain": "yes"}, 400, "bad_request"),
    ("/v1/decisions/msa-fee", {"facts": FEB, "as_of": "2024-02-30"}, 400, "bad_request"),
    ("/v1/decisions/msa-fee", b'{"facts": {"month": "\xff"}}', 400, "bad_request"),
    # the envelope's key twice: the quick reader's count finds it, the strict one names it
    ("/v1/decisions/msa-fee", json.dumps({"facts": FEB, "version": "2024-06-04"})[:-1].encode()
     + b', "version": "2024-06-11"}', 400, "bad_request"),
])
def test_errors_are_data(server, path, body, status, code):
    got, raw = call(server, "POST", path, body)
    assert got == status
    answer = json.loads(raw)
    assert answer["error"]["code"] == code and answer["error"]["message"]
    assert "Traceback" not in raw.decode()


def test_bad_facts_name_their_paths(server):
    _, raw = call(server, "POST", "/v1/decisions/msa-fee",
                  {"facts": {**FEB, "team": {"vip_level": "seven"}}, "version": "2024-06-04"})
    errors = json.loads(raw)["error"]["errors"]
    assert {"path": "team.vip_level", "message": errors[0]["message"]} in errors
    assert "seven" in errors[0]["message"]


def test_wrong_content_type_is_a_bad_request(server):
    status, raw = call(server, "POST", "/v1/decisions/msa-fee", json.dumps({"facts": FEB}).encode(),
                       content_type="text/plain")
    assert status == 400 and json.loads(raw)["error"]["code"] == "bad_request"


def test_health_policies_and_status(server, rules):
    assert call(server, "GET", "/health/live")[0] == 200
    status, raw = call(server, "GET", "/health/ready")
    assert status == 200 and json.loads(raw)["digest"].startswith("sha256:")
    listed = json.loads(call(server, "GET", "/v1/policies")[1])["policies"]
    assert [p["policy"] for p in listed] == sorted(rules.policies)
    msa = next(p for p in listed if p["policy"] == "msa-fee")
    assert [v["version"] for v in msa["versions"]] == ["2024-06-04", "2024-06-11"]
    assert json.loads(call(server, "GET", "/v1/status")[1])["digest"] == json.loads(
        call(server, "GET", "/health/ready")[1])["digest"]


def test_the_server_keeps_serving_after_bad_requests(server):
    for body in (b"{", b"[]", b'{"facts": {}}'):
        call(server, "POST", "/v1/decisions/msa-fee", body)
    assert call(server, "POST", "/v1/decisions/msa-fee", {"facts": FEB, "version": "2024-06-11",
                                                          "known_at": KNOWN_AT})[0] == 200


def test_openapi_documents_the_paths(server):
    status, raw = call(server, "GET", "/openapi.json")
    paths = json.loads(raw)["paths"]
    assert status == 200 and {"/v1/decisions/{policy}", "/v1/policies", "/v1/status", "/health/live",
                              "/health/ready"} <= set(paths)


# -- the decision log ------------------------------------------------------------------------------------

def _logged(log):
    return [json.loads(line) for line in Path(log.path).read_text().splitlines()]


def test_each_answered_decision_is_logged_with_masks_and_nothing_else(server, decision_log):
    before = len(_logged(decision_log))
    status, raw = call(server, "POST", "/v1/decisions/msa-fee", {"facts": FEB, "version": "2024-06-04",
                                                                 "known_at": KNOWN_AT})
    call(server, "POST", "/v1/decisions/msa-fee", {"facts": {**FEB, "month": "2025-13"}, "version": "2024-06-04"})
    call(server, "POST", "/v1/decisions/msa-fe", {"facts": FEB})
    records = _logged(decision_log)[before:]
    assert status == 200 and len(records) == 1   # the two refused requests were not answered decisions
    [record] = records
    answer = json.loads(raw)
    assert record["decision_id"] == answer["decision_id"] and record["digest"] == answer["digest"]
    assert (record["policy"], record["version"]) == ("msa-fee", "2024-06-04")
    assert "team" not in record["facts"] and record["facts"]["month"] == "2025-02"   # --mask /facts/team
    assert record["result"] == answer["result"] and record["result"]["fee"] == "5711.23"
    assert record["timestamp"].endswith("Z")


def test_masks_are_json_pointers():
    from engine.serve.decision_log import masked, parse_pointer
    record = {"facts": {"team": {"vip_level": 7}, "a/b": 1, "list": [{"x": 1}, {"x": 2}]}, "result": {}}
    pointers = [parse_pointer(p) for p in ("/facts/team/vip_level", "/facts/a~1b", "/facts/list/1/x", "/facts/none")]
    assert masked(record, pointers) == {"facts": {"team": {}, "list": [{"x": 1}, {}]}, "result": {}}
    assert record["facts"]["team"] == {"vip_level": 7}   # the record itself is not changed
    with pytest.raises(ValueError):
        parse_pointer("facts/team")


def test_the_log_rotates_by_size(tmp_path):
    from engine.serve.decision_log import DecisionLog
    log = DecisionLog(tmp_path / "d.jsonl", max_bytes=200, backups=2)
    for n in range(12):
        log.write({"decision_id": str(n), "padding": "x" * 40})
    log.close()
    kept = [json.loads(line)["decision_id"] for name in ("d.jsonl.2", "d.jsonl.1", "d.jsonl")
            for line in (tmp_path / name).read_text().splitlines()]
    assert kept == [str(n) for n in range(12 - len(kept), 12)]   # the newest, in order, none torn
    assert all((tmp_path / name).stat().st_size <= 200 for name in ("d.jsonl.1", "d.jsonl.2"))


def test_kill_9_loses_no_answered_decision(tmp_path):
    import os
    import signal
    log = tmp_path / "decisions.jsonl"
    process, base = _spawn("--decision-log", str(log))
    try:
        answered = []
        for _ in range(30):
            status, raw = call(base, "POST", "/v1/decisions/msa-fee", {"facts": FEB, "version": "2024-06-11",
                                                                       "known_at": KNOWN_AT})
            assert status == 200
            answered.append(json.loads(raw)["decision_id"])
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    logged = [json.loads(line)["decision_id"] for line in log.read_text().splitlines()]
    assert logged == answered


# -- reloads -------------------------------------------------------------------------------------------

def _copy_rules(tmp_path):
    import shutil
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    return tmp_path / "rules"


def _admin(base, token, path="/v1/admin/reload"):
    request = urllib.request.Request(base + path, data=b"", method="POST",
                                     headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_reload_needs_the_token_and_refuses_a_broken_set(tmp_path):
    rules = _copy_rules(tmp_path)
    srv, thread, base = _start(create_app(RuleStore(rules), admin_token="s3cret"))
    try:
        ask = {"facts": FEB, "version": "2024-06-11", "known_at": KNOWN_AT}
        (none, missing), (wrong, bad) = _admin(base, None), _admin(base, "wrong")
        assert none == wrong == 401 and missing["error"]["message"].startswith("no token")
        assert bad["error"]["message"] == "the bearer token is not the one of --admin-token-file"
        before = json.loads(call(base, "GET", "/v1/status")[1])["digest"]
        rule = rules / "msa-fee" / "2024-06-11.yaml"
        text = rule.read_text()
        rule.write_text(text.replace("effective_from:", "efective_from:", 1))   # a broken rule file
        status, answer = _admin(base, "s3cret")
        assert status == 422 and answer["error"]["code"] == "reload_refused"
        assert any("2024-06-11.yaml" in e["message"] and "efective_from" in e["message"]
                   for e in answer["error"]["errors"])
        assert call(base, "POST", "/v1/decisions/msa-fee", ask)[0] == 200   # the old set still answers
        assert json.loads(call(base, "GET", "/v1/status")[1])["digest"] == before
        rule.write_text(text + "\n# a comment: the same rules, another file digest\n")
        status, answer = _admin(base, "s3cret")
        assert status == 200 and answer["digest"] != before
        assert json.loads(call(base, "GET", "/v1/status")[1])["digest"] == answer["digest"]
        assert json.loads(call(base, "POST", "/v1/decisions/msa-fee", ask)[1])["result"]["fee"] == "4360.00"
    finally:
        srv.should_exit = True
        thread.join(10)


def test_reload_over_http_is_off_without_a_token(server):
    assert _admin(server, "anything")[0] == 404


def test_sighup_reloads(tmp_path):
    import os
    import signal
    rules = _copy_rules(tmp_path)
    process, base = _spawn("--rules", str(rules))
    try:
        before = json.loads(call(base, "GET", "/v1/status")[1])["digest"]
        rule = rules / "msa-fee" / "2024-06-11.yaml"
        rule.write_text(rule.read_text() + "\n# reloaded on SIGHUP\n")
        os.kill(process.pid, signal.SIGHUP)
        deadline = time.monotonic() + 60
        while json.loads(call(base, "GET", "/v1/status")[1])["digest"] == before:
            assert time.monotonic() < deadline, "SIGHUP did not reload"
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(10)


def test_metrics(server):
    call(server, "POST", "/v1/decisions/msa-fee", {"facts": FEB, "version": "2024-06-04", "known_at": KNOWN_AT})
    call(server, "POST", "/v1/decisions/nope", {"facts": FEB})
    status, raw = call(server, "GET", "/metrics")
    text = raw.decode()
    assert status == 200
    assert 'policy_decisions_total{outcome="ok",policy="msa-fee",version="2024-06-04"}' in text
    assert 'policy_decisions_total{outcome="unknown_policy",policy="_unknown_",version=""}' in text
    assert 'policy_decision_seconds_bucket{le="10.0",policy="msa-fee"}' in text
    digest = json.loads(call(server, "GET", "/v1/status")[1])["digest"]
    assert f'policy_rules_active{{digest="{digest}"}} 1.0' in text


def test_openapi_types_each_policys_body_by_its_facts_schema(server, rules):
    doc = json.loads(call(server, "GET", "/openapi.json")[1])
    schemas = doc["components"]["schemas"]
    for policy in rules.policies:
        body = doc["paths"][f"/v1/decisions/{policy}"]["post"]["requestBody"]["content"]["application/json"]
        request = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]
        assert request["required"] == ["facts"]
        assert request["properties"]["version"]["enum"] == [v.version for v in rules.versions(policy)]
    facts = schemas["msa-fee.facts"]
    assert {"month", "team", "sub_accounts"} <= set(facts["properties"])

    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)
    for ref in refs(doc):   # every reference resolves inside the document
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in schemas, ref


# -- batches ---------------------------------------------------------------------------------------------

def _batch(base, query, body: bytes, content_type="application/x-ndjson"):
    request = urllib.request.Request(f"{base}/v1/batch/msa-fee{query}", data=body, method="POST",
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_a_batch_is_lines_as_the_cli_writes_them(server, decision_log, rules):
    from engine.run import batch
    lines = [json.dumps(FEB).encode(), b"{", json.dumps({**FEB, "team": {"vip_level": "seven"}}).encode()]
    before = len(_logged(decision_log))
    status, headers, raw = _batch(server, f"?version=2024-06-04&known_at={KNOWN_AT}", b"\n".join(lines) + b"\n")
    assert status == 200 and headers["content-type"] == "application/x-ndjson"
    out = raw.decode().splitlines()
    assert len(out) == 3 and headers["x-failed-lines"] == "2"
    assert json.loads(out[0])["result"]["fee"] == "5711.23"   # 74,450 x 28 / 365
    assert json.loads(out[1])["line"] == 2 and json.loads(out[2])["line"] == 3
    assert "team.vip_level" in out[2]
    options = {"version": "2024-06-04", "as_of": None, "trace": False,
               "known_at": __import__("engine.run.ruleset", fromlist=["x"])._parse_known_at(KNOWN_AT)}
    assert out == [batch.decide_line(rules, "msa-fee", n, line, options)[0] for n, line in enumerate(lines, 1)]
    [record] = _logged(decision_log)[before:]   # the decided line only, as its own decision
    assert record["decision_id"] == f"{headers['x-batch-id']}.1" and record["result"]["fee"] == "5711.23"
    assert "team" not in record["facts"]   # masked as single decisions are


@pytest.mark.parametrize("query,body,content_type,status,code", [
    ("?versions=2024-06-04", b"{}", "application/x-ndjson", 400, "bad_request"),
    ("?version=2024-06-05", b"{}", "application/x-ndjson", 404, "unknown_version"),
    ("?trace=maybe", b"{}", "application/x-ndjson", 400, "bad_request"),
    ("?as_of=2024-13-01", b"{}", "application/x-ndjson", 400, "bad_request"),
    ("", b"{}", "text/csv", 400, "bad_request"),
    ("", b"x" * (64 * 1024 + 1), "application/x-ndjson", 413, "body_too_large"),
])
def test_batch_errors_are_data(server, query, body, content_type, status, code):
    got, _headers, raw = _batch(server, query, body, content_type)
    assert got == status and json.loads(raw)["error"]["code"] == code



# -- what a new user met (a trial of the README) ------------------------------------------------------

def test_other_methods_and_paths_are_errors_in_the_apis_shape(server):
    request = urllib.request.Request(server + "/v1/decisions/msa-fee", method="GET")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 405 and caught.value.headers["allow"] == "POST"
    assert json.loads(caught.value.read())["error"]["code"] == "method_not_allowed"
    status, raw = call(server, "GET", "/v1/nothing-here")
    assert status == 404 and json.loads(raw)["error"] == {
        "code": "not_found", "message": "no such path: /v1/nothing-here (the paths are in /openapi.json)", "errors": []}
    status, raw = call(server, "GET", "/v1/admin/reload")
    assert status == 405 and json.loads(raw)["error"]["code"] == "method_not_allowed"


def test_messages_speak_of_the_body_not_the_command_line(server):
    status, raw = call(server, "POST", "/v1/decisions/msa-fee", b'{"facts": {"month": }}')
    assert status == 400 and json.loads(raw)["error"]["message"].endswith("(line 1, column 21)")
    status, raw = call(server, "POST", "/v1/decisions/msa-fee", {"facts": FEB, "as_of": "2025-02-30"})
    assert status == 400 and json.loads(raw)["error"]["message"].startswith("as_of: expected a date")
    status, raw = call(server, "POST", "/v1/decisions/msa-fee", b'{"facts": {"month": "2025-02", "month": "2025-03"}}')
    assert status == 422 and json.loads(raw)["error"]["errors"] == [
        {"path": "month", "message": "key appears twice in one object"}]   # relative to the facts, as the schema's
    status, raw = call(server, "POST", "/v1/decisions/msa-fee", b"{}", content_type="text/plain")
    assert json.loads(raw)["error"]["message"] == "expected Content-Type application/json, found text/plain"


def test_the_log_record_carries_the_dates_it_was_decided_for(server, decision_log):
    before = len(_logged(decision_log))
    call(server, "POST", "/v1/decisions/msa-fee", {"facts": FEB, "version": "2024-06-04", "known_at": KNOWN_AT})
    [record] = _logged(decision_log)[before:]
    assert (record["as_of"], record["known_at"]) == ("2025-02-28", KNOWN_AT)   # a February fee: its last day


def test_a_port_in_use_is_said_before_anything_starts(capsys):
    import socket
    from engine.cli.main import main
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in capsys.readouterr().err
