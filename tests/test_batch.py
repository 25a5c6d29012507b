"""`policy eval --batch`: one decision a line, in order; a bad line in its place; exit 2
if any line failed."""
import io
import json
import sys

from engine.cli.main import main

from conftest import ROOT

FAQ = json.loads((ROOT / "rules/institutional-loan-ltv/cases/faq-worked-example.facts.json").read_text())


def lines(*facts) -> str:
    return "".join((f if isinstance(f, str) else json.dumps(f)) + "\n" for f in facts)


def run(capsys, monkeypatch, text, *extra):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code = main(["eval", "institutional-loan-ltv", "--batch", "-", "--version", "2024-12-05",
                 "--known-at", "2025-01-01T00:00:00Z", "--rules", str(ROOT / "rules"), *extra])
    out, err = capsys.readouterr()
    return code, [json.loads(x) for x in out.splitlines()], err


def test_every_line_decided_in_order(capsys, monkeypatch):
    second = json.loads(json.dumps(FAQ))
    second["loan"]["principal"] = "9000000"   # 9,000,000 / 10,184,750 = 0.8836... -> margin call
    code, out, err = run(capsys, monkeypatch, lines(FAQ, second, FAQ))
    assert (code, err) == (0, "")
    assert [d["result"]["ltv"] for d in out] == ["0.1963", "0.8836", "0.1963"]
    assert [d["result"]["state"] for d in out] == ["normal", "margin_call", "normal"]
    assert all(d["known_at"] == "2025-01-01T00:00:00Z" for d in out)


def test_a_bad_line_is_reported_in_its_place(capsys, monkeypatch):
    broken = json.loads(json.dumps(FAQ))
    broken["accounts"][0]["wallets"][0]["assets"]["DOGE"] = "1"
    code, out, _ = run(capsys, monkeypatch, lines(FAQ, "{not json", broken, "", FAQ))
    assert code == 2
    assert out[0]["result"]["ltv"] == "0.1963"
    syntax = "column 2: not valid JSON: Expecting property name enclosed in double quotes"
    assert out[1] == {"line": 2, "error": syntax, "errors": [{"path": "", "message": syntax}]}
    price = "no index price for DOGE (index_prices has BTC, ETH, SOL, XRP, USDT, USDC)"
    assert out[2] == {"line": 3, "error": f"accounts[0].wallets[0].assets.DOGE: {price}",
                      "errors": [{"path": "accounts[0].wallets[0].assets.DOGE", "message": price}]}
    # one line out per line in: the empty line is a bad line too
    assert out[3] == {"line": 4, "error": "an empty line: expected one facts object",
                      "errors": [{"path": "", "message": "an empty line: expected one facts object"}]}
    assert len(out) == 5 and out[4]["result"]["ltv"] == "0.1963"


def test_batch_lines_match_single_decisions(capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, lines(FAQ))
    assert main(["eval", "institutional-loan-ltv", "--facts", str(ROOT / "rules/institutional-loan-ltv/cases/"
                 "faq-worked-example.facts.json"), "--version", "2024-12-05", "--known-at", "2025-01-01T00:00:00Z",
                 "--rules", str(ROOT / "rules")]) == 0
    single = json.loads(capsys.readouterr().out)
    assert "trace" not in out[0]                   # a batch line leaves the trace out (DESIGN section 4)
    assert {k: v for k, v in single.items() if k != "trace"} == out[0]
    code, traced, _ = run(capsys, monkeypatch, lines(FAQ), "--trace")
    assert traced[0] == single                     # with --trace, the whole --format json object


def test_a_line_with_many_problems_names_the_first_few_and_a_count(capsys, monkeypatch):
    broken = json.loads(json.dumps(FAQ))
    for i in range(12):   # twelve assets without an index price, in one wallet
        broken["accounts"][0]["wallets"][0]["assets"][f"X{i:02d}"] = "1"
    code, out, _ = run(capsys, monkeypatch, lines(broken))
    assert code == 2
    first = "accounts[0].wallets[0].assets.X00: no index price for X00 (index_prices has BTC, ETH, SOL, XRP, USDT, USDC)"
    assert out[0]["error"].startswith(first + "; accounts[0].wallets[0].assets.X01: ")
    assert out[0]["error"].endswith("; and 9 more (12 problems)")
    assert len(out[0]["errors"]) == 10
    assert [e["path"] for e in out[0]["errors"]][:2] == ["accounts[0].wallets[0].assets.X00",
                                                           "accounts[0].wallets[0].assets.X01"]


def test_workers_give_the_same_bytes(capsys, monkeypatch):
    """--workers 2: lines decided in two processes come back in order, byte for byte."""
    second = json.loads(json.dumps(FAQ))
    second["loan"]["principal"] = "9000000"
    text = lines(*([FAQ, second, "{not json", ""] * 150))   # 600 lines: more than two chunks
    outputs = []
    for workers in ("1", "2"):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
        code = main(["eval", "institutional-loan-ltv", "--batch", "-", "--version", "2024-12-05", "--workers", workers,
                     "--known-at", "2025-01-01T00:00:00Z", "--rules", str(ROOT / "rules")])
        out, err = capsys.readouterr()
        outputs.append((code, out, err))
    assert outputs[0] == outputs[1]
    code, out, err = outputs[0]
    assert (code, err) == (2, "") and len(out.splitlines()) == 600
    assert [json.loads(x).get("line") for x in out.splitlines()[:4]] == [None, None, 3, 4]


def test_trace_and_workers_belong_to_batch(capsys):
    code = main(["eval", "institutional-loan-ltv", "--facts", str(ROOT / "rules/institutional-loan-ltv/cases/"
                 "faq-worked-example.facts.json"), "--workers", "2", "--rules", str(ROOT / "rules")])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "") and "--trace and --workers go with --batch" in err
