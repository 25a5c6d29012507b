"""Signed rule bundles: a rules folder, its schemas and cases in one zip file with a manifest
of every file's SHA-256 digest (`manifest.json`), signed with Ed25519 (`manifest.sig`, by
the `cryptography` package). A bundle is used only if its signature verifies with the key
given and every file is exactly as the manifest says: a tampered, unsigned or wrongly
signed bundle is refused, naming the file that differs."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from ..errors import Diagnostic, RuleError, UsageError

FORMAT = "policy-bundle/1"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
_STAMP = (1980, 1, 1, 0, 0, 0)   # every entry's time: the same folder gives the same bytes


def _crypto():
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    except ImportError:   # pragma: no cover - the serve extra installs it
        raise UsageError("bundles need the cryptography package: pip install -e '.[serve]'") from None
    return serialization, Ed25519PrivateKey, Ed25519PublicKey, InvalidSignature


def keygen(path: str | Path) -> tuple[Path, Path]:
    """A new key pair: PATH (private, PEM PKCS#8, mode 600) and PATH.pub (public, PEM)."""
    serialization, private_cls, _public_cls, _bad = _crypto()
    key = private_cls.generate()
    private = Path(path)
    public = private.with_name(private.name + ".pub")
    try:
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)   # never readable by others
        with os.fdopen(fd, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
        public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    except OSError as exc:
        raise UsageError(f"{exc.filename or path}: {exc.strerror}") from None
    return private, public


def _key(path, private: bool):
    """The Ed25519 key in a PEM file, or a UsageError saying what the file is instead."""
    serialization, private_cls, public_cls, _bad = _crypto()
    kind = "private" if private else "public"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}: expected an Ed25519 {kind} key (policy bundle keygen)") from None
    try:
        key = serialization.load_pem_private_key(data, password=None) if private \
            else serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        hint = {True: " (this looks like the public one: sign with KEY, not KEY.pub)",
                False: " (this looks like the private one: verify with KEY.pub)"}[private] \
            if (b"PUBLIC KEY" in data) == private else ""
        raise UsageError(f"{path}: not an Ed25519 {kind} key in PEM{hint}") from None
    if not isinstance(key, private_cls if private else public_cls):
        raise UsageError(f"{path}: a {type(key).__name__}, not an Ed25519 {kind} key")
    return key


KINDS = (".yaml", ".yml", ".json")   # rule, shared, case, chart, facts and schema files: nothing else


def _files(rules: Path, out: Path) -> dict[str, Path]:
    """name in the bundle -> file: the rules folder (cases and charts in it) and the schemas
    it uses (the schemas/ folder beside it, or else the engine's own, as load_rules does).
    A file of any other kind (a key, a zip, notes) is refused rather than packed."""
    from ..run.ruleset import shipped_dir
    schemas = rules.parent / "schemas" if (rules.parent / "schemas").is_dir() else shipped_dir("schemas")
    out_file = out.resolve()
    files, strays = {}, []
    for base, prefix in ((rules, "rules"), (schemas, "schemas")):
        for file in sorted(base.rglob("*")):
            if not file.is_file() or "__pycache__" in file.parts or file.resolve() == out_file:
                continue
            if file.suffix.lower() not in KINDS or any(part.startswith(".") for part in file.relative_to(base).parts):
                strays.append(str(file))
                continue
            files[f"{prefix}/{file.relative_to(base).as_posix()}"] = file
    if strays:
        shown = ", ".join(strays[:5]) + (f" and {len(strays) - 5} more" if len(strays) > 5 else "")
        raise UsageError(f"not packed: only rule-set files ({', '.join(KINDS)}) go in a bundle, and these are not: "
                         f"{shown}. Move them out of {base.parent if base == schemas else rules}.")
    return files


def build(rules: str | Path, out: str | Path, sign_key: str | Path | None = None) -> dict:
    """Writes the bundle of a rules folder that loads (RuleError otherwise); returns its manifest."""
    from ..run.ruleset import load_rules
    load_rules(rules)   # a bundle of a set that does not load would only be refused where it is served
    files = _files(Path(rules), Path(out))
    key = _key(sign_key, private=True) if sign_key is not None else None
    manifest = {"format": FORMAT, "files": {name: "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
                                           for name, path in files.items()}}
    text = json.dumps(manifest, indent=1, sort_keys=True).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo(MANIFEST, _STAMP), text)
        if key is not None:
            z.writestr(zipfile.ZipInfo(SIGNATURE, _STAMP), key.sign(text))
        for name, path in files.items():
            z.writestr(zipfile.ZipInfo(name, _STAMP), path.read_bytes())
    return manifest


def verify(bundle: str | Path, public_key: str | Path) -> dict[str, bytes]:
    """name -> content of every file, once the signature and every digest are right; else
    RuleError naming what differs."""
    _serialization, _private, _public, bad_signature = _crypto()
    where = str(bundle)
    try:
        z = zipfile.ZipFile(bundle)
    except (OSError, zipfile.BadZipFile) as exc:
        raise RuleError(Diagnostic(where, f"not a bundle: {exc}")) from None
    with z:
        names = set(z.namelist())
        if MANIFEST not in names:
            raise RuleError(Diagnostic(where, f"not a bundle: no {MANIFEST}"))
        text = z.read(MANIFEST)
        if SIGNATURE not in names:
            raise RuleError(Diagnostic(where, "unsigned: it has no manifest.sig (build it with --sign KEY)"))
        key = _key(public_key, private=False)
        try:
            key.verify(z.read(SIGNATURE), text)
        except bad_signature:
            raise RuleError(Diagnostic(where, f"{MANIFEST}: the signature does not verify with {public_key} "
                                              "(signed with another key, or the manifest was changed)")) from None
        manifest = json.loads(text)
        listed = manifest.get("files", {})
        problems = [Diagnostic(where, f"{name}: in the bundle but not in its manifest")
                    for name in sorted(names - set(listed) - {MANIFEST, SIGNATURE})]
        contents = {}
        for name, digest in sorted(listed.items()):
            if name not in names:
                problems.append(Diagnostic(where, f"{name}: in the manifest but missing from the bundle"))
                continue
            data = z.read(name)
            if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
                problems.append(Diagnostic(where, f"{name}: its content differs from the manifest's digest"))
            contents[name] = data
        if problems:
            raise RuleError(problems)
    return contents


def unpack(bundle: str | Path, public_key: str | Path) -> Path:
    """The verified bundle in a new temporary folder; returns its rules folder (schemas beside it)."""
    contents = verify(bundle, public_key)
    root = Path(tempfile.mkdtemp(prefix="policy-bundle-"))
    for name, data in contents.items():
        target = (root / name).resolve()
        if root.resolve() not in target.parents:   # a name with '..' in it: refused
            raise RuleError(Diagnostic(str(bundle), f"{name}: a path outside the bundle"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root / "rules"


class Source:
    """A bundle as RuleStore's source of rules: each load (the first, and each reload)
    verifies the bundle file as it is then and unpacks it anew, so that a reload picks up a
    new bundle put in its place, and a bundle that fails verification is refused like a
    broken rule file. RuleStore releases each folder once it has loaded and checked it
    (the rules are in memory by then), so none is left behind however the process ends."""

    def __init__(self, bundle, public_key):
        self.bundle, self.public_key = bundle, public_key
        self.folders: list[Path] = []   # every folder given, for the tests

    def __call__(self) -> Path:
        rules = unpack(self.bundle, self.public_key)
        self.folders.append(rules.parent)
        return rules

    def release(self, rules: Path) -> None:
        shutil.rmtree(rules.parent, ignore_errors=True)
