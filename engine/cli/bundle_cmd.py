"""`policy bundle keygen|build|verify`: signed rule bundles (engine.serve.bundle)."""
from __future__ import annotations

from pathlib import Path

HELP = "signed rule bundles: keygen KEY, build DIR --out FILE [--sign KEY], verify FILE --key KEY.pub"


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    keygen = sub.add_parser("keygen", help="a new Ed25519 key pair: KEY (private) and KEY.pub")
    keygen.add_argument("key")
    build = sub.add_parser("build", help="a bundle of a rules folder, its schemas and cases")
    build.add_argument("dir", help="the rules folder")
    build.add_argument("--out", required=True, metavar="FILE")
    build.add_argument("--sign", metavar="KEY", help="the private key to sign it with")
    verify = sub.add_parser("verify", help="check a bundle's signature and every file's digest")
    verify.add_argument("file")
    verify.add_argument("--key", required=True, metavar="KEY.pub")


def run(args) -> int:
    from ..errors import UsageError
    from ..run.ruleset import load_rules
    from ..serve import bundle
    if args.action == "keygen":
        if Path(args.key).exists():
            raise UsageError(f"{args.key} exists: a key is not overwritten")
        private, public = bundle.keygen(args.key)
        print(f"wrote {private} (private: keep it secret) and {public} (public: give it to the servers)")
        return 0
    if args.action == "build":
        if not Path(args.dir).is_dir():
            raise UsageError(f"{args.dir}: not a folder")
        manifest = bundle.build(args.dir, args.out, args.sign)
        digest = load_rules(args.dir).digest
        print(f"wrote {args.out}: {len(manifest['files'])} files" + ("" if args.sign else " (unsigned)")
              + f"; rule set {digest} (what /v1/status shows once it is served)")
        return 0
    contents = bundle.verify(args.file, args.key)
    source = bundle.Source(args.file, args.key)
    folder = source()
    try:
        digest = load_rules(folder).digest
    finally:
        source.release(folder)
    print(f"ok: {args.file}: the signature verifies and {len(contents)} files match the manifest; "
          f"rule set {digest}")
    return 0
