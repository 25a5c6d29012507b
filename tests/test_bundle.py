"""Signed rule bundles: built, verified, refused when tampered, unsigned or signed with
another key, and served."""
import json
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("cryptography")

from engine.cli.main import main   # noqa: E402
from engine.errors import RuleError   # noqa: E402
from engine.run.ruleset import RuleStore   # noqa: E402
from engine.serve import bundle   # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    return bundle.keygen(folder / "key"), bundle.keygen(folder / "other")


@pytest.fixture(scope="module")
def signed(keys, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "rules.zip"
    bundle.build(ROOT / "rules", out, keys[0][0])
    return out


def _rewrite(source, target, change):
    """A copy of the bundle with change(name, data) -> data (or None to leave a file out)."""
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w") as out:
        for name in z.namelist():
            data = change(name, z.read(name))
            if data is not None:
                out.writestr(name, data)
    return target


def test_a_signed_bundle_verifies_and_serves(keys, signed):
    contents = bundle.verify(signed, keys[0][1])
    assert "rules/msa-fee/2024-06-11.yaml" in contents and "schemas/msa-fee.facts.json" in contents
    assert contents["rules/msa-fee/2024-06-11.yaml"] == (ROOT / "rules/msa-fee/2024-06-11.yaml").read_bytes()
    rules = bundle.unpack(signed, keys[0][1])
    store = RuleStore(rules)   # the gate: every file validates, every case passes
    facts = json.loads((ROOT / "rules/msa-fee/cases/february-three-accounts.facts.json").read_text())
    assert store.evaluate("msa-fee", facts, version="2024-06-11").result["fee"] == 4360   # as the shipped rules say


def test_the_same_folder_gives_the_same_bytes(keys, tmp_path):
    a, b = tmp_path / "a.zip", tmp_path / "b.zip"
    bundle.build(ROOT / "rules", a)
    bundle.build(ROOT / "rules", b)
    assert a.read_bytes() == b.read_bytes()


def test_a_tampered_file_is_named(keys, signed, tmp_path):
    name = "rules/msa-fee/2024-06-11.yaml"
    bad = _rewrite(signed, tmp_path / "bad.zip", lambda n, d: d + b"\n# changed\n" if n == name else d)
    with pytest.raises(RuleError) as caught:
        bundle.verify(bad, keys[0][1])
    assert [d.message for d in caught.value.diagnostics] == [f"{name}: its content differs from the manifest's digest"]


def test_an_added_or_missing_file_is_named(keys, signed, tmp_path):
    extra = tmp_path / "extra.zip"
    _rewrite(signed, extra, lambda n, d: d)
    with zipfile.ZipFile(extra, "a") as z:
        z.writestr("rules/msa-fee/2099-01-01.yaml", b"policy: msa-fee\n")
    with pytest.raises(RuleError, match="rules/msa-fee/2099-01-01.yaml: in the bundle but not in its manifest"):
        bundle.verify(extra, keys[0][1])
    missing = _rewrite(signed, tmp_path / "missing.zip",
                       lambda n, d: None if n == "schemas/msa-fee.facts.json" else d)
    with pytest.raises(RuleError, match="schemas/msa-fee.facts.json: in the manifest but missing"):
        bundle.verify(missing, keys[0][1])


def test_unsigned_and_wrongly_signed_bundles_are_refused(keys, signed, tmp_path):
    unsigned = tmp_path / "unsigned.zip"
    bundle.build(ROOT / "rules", unsigned)
    with pytest.raises(RuleError, match="unsigned"):
        bundle.verify(unsigned, keys[0][1])
    with pytest.raises(RuleError, match="the signature does not verify"):
        bundle.verify(signed, keys[1][1])   # another key
    forged = _rewrite(signed, tmp_path / "forged.zip",
                      lambda n, d: d.replace(b'"files"', b'"files" ', 1) if n == "manifest.json" else d)
    with pytest.raises(RuleError, match="the signature does not verify"):
        bundle.verify(forged, keys[0][1])   # the manifest changed after signing


def test_the_cli(keys, signed, tmp_path, capsys):
    assert main(["bundle", "verify", str(signed), "--key", str(keys[0][1])]) == 0
    assert "the signature verifies" in capsys.readouterr().out
    assert main(["bundle", "verify", str(signed), "--key", str(keys[1][1])]) == 1
    assert "does not verify" in capsys.readouterr().err
    assert main(["bundle", "keygen", str(keys[0][0])]) == 2   # a key is never overwritten
    out = tmp_path / "cli.zip"
    assert main(["bundle", "build", str(ROOT / "rules"), "--out", str(out), "--sign", str(keys[0][0])]) == 0
    assert bundle.verify(out, keys[0][1])
    assert main(["serve", "--bundle", str(out)]) == 2   # --verify-key goes with it


def test_serve_refuses_a_tampered_bundle(keys, signed, tmp_path, capsys):
    name = "rules/msa-fee/2024-06-11.yaml"
    bad = _rewrite(signed, tmp_path / "bad.zip", lambda n, d: d + b"\n# changed\n" if n == name else d)
    assert main(["serve", "--bundle", str(bad), "--verify-key", str(keys[0][1])]) == 1   # before any port is bound
    assert f"{name}: its content differs from the manifest's digest" in capsys.readouterr().err


def test_a_reload_verifies_the_bundle_put_in_its_place(keys, signed, tmp_path):
    """RuleStore over a bundle Source: each reload verifies the bundle file as it is then. A
    tampered one is refused, naming the file, and the old set answers; a newly signed one
    with a change is activated."""
    import shutil
    served = tmp_path / "served.zip"
    shutil.copy(signed, served)
    source = bundle.Source(served, keys[0][1])
    try:
        store = RuleStore(source)
        before = store.current
        name = "rules/msa-fee/2024-06-11.yaml"
        _rewrite(signed, tmp_path / "bad.zip", lambda n, d: d + b"\n# changed\n" if n == name else d)
        shutil.copy(tmp_path / "bad.zip", served)
        [problem] = store.reload()
        assert problem.message == f"{name}: its content differs from the manifest's digest"
        assert store.current is before
        changed = tmp_path / "changed"
        shutil.copytree(ROOT / "rules", changed / "rules")
        shutil.copytree(ROOT / "schemas", changed / "schemas")
        rule = changed / "rules/msa-fee/2024-06-11.yaml"
        rule.write_text(rule.read_text() + "\n# a comment: the same rules, another digest\n")
        bundle.build(changed / "rules", served, keys[0][0])
        assert store.reload() == [] and store.current is not before
        digests = {v.version: v.digest for v in store.current.versions("msa-fee")}
        assert digests["2024-06-11"] != {v.version: v.digest for v in before.versions("msa-fee")}["2024-06-11"]
        assert len(source.folders) == 2   # the first and the new: the tampered one was refused before unpacking
    finally:
        assert not any(f.exists() for f in source.folders)   # released once loaded: nothing left in /tmp


def test_bad_keys_and_stray_files_are_usage_errors(keys, signed, tmp_path, capsys):
    private, public = keys[0]
    assert main(["bundle", "verify", str(signed), "--key", str(private)]) == 2
    assert "not an Ed25519 public key in PEM (this looks like the private one: verify with KEY.pub)" \
        in capsys.readouterr().err
    assert main(["bundle", "verify", str(signed), "--key", str(tmp_path / "nope.pub")]) == 2
    assert "nope.pub: No such file or directory" in capsys.readouterr().err
    assert main(["bundle", "build", str(ROOT / "rules"), "--out", str(tmp_path / "b.zip"), "--sign", str(public)]) == 2
    assert "this looks like the public one: sign with KEY, not KEY.pub" in capsys.readouterr().err
    assert main(["bundle", "keygen", str(tmp_path / "no" / "such" / "key")]) == 2
    assert "No such file or directory" in capsys.readouterr().err
    import shutil
    shutil.copytree(ROOT / "rules", tmp_path / "set" / "rules")
    shutil.copytree(ROOT / "schemas", tmp_path / "set" / "schemas")
    (tmp_path / "set" / "rules" / "release.key").write_text("secret")
    assert main(["bundle", "build", str(tmp_path / "set" / "rules"), "--out", str(tmp_path / "c.zip")]) == 2
    err = capsys.readouterr().err
    assert "not packed" in err and "release.key" in err and not (tmp_path / "c.zip").exists()


def test_build_and_verify_print_the_rule_sets_digest(keys, signed, tmp_path, capsys):
    from engine.run.ruleset import load_rules
    digest = load_rules(ROOT / "rules").digest
    assert main(["bundle", "build", str(ROOT / "rules"), "--out", str(tmp_path / "d.zip"), "--sign",
                 str(keys[0][0])]) == 0
    assert f"rule set {digest}" in capsys.readouterr().out
    assert main(["bundle", "verify", str(tmp_path / "d.zip"), "--key", str(keys[0][1])]) == 0
    assert f"rule set {digest}" in capsys.readouterr().out
