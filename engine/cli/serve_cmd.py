"""`policy serve`: the decision service (engine.serve), on uvicorn."""
from __future__ import annotations

HELP = "serve decisions over HTTP: POST /v1/decisions/POLICY and /v1/batch/POLICY, health, policies, status"


# No access log (the decision log is the record), no `server` header, and no proxy-headers
# middleware (the client's address is not used): each costs a few microseconds a request.
UVICORN = {"log_level": "warning", "access_log": False, "server_header": False, "proxy_headers": False}


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8181, help="the port (default 8181)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="answer in N processes (default 1) under a supervisor that does the reloads")
    parser.add_argument("--max-body", type=int, default=10 * 1024 * 1024, metavar="BYTES",
                        help="the largest request body (default 10 MB): larger ones get 413")
    parser.add_argument("--bundle", metavar="FILE", help="serve a signed bundle (policy bundle build) instead of --rules")
    parser.add_argument("--verify-key", metavar="KEY", help="with --bundle: the public key its signature must verify with")
    parser.add_argument("--admin-token-file", metavar="FILE",
                        help="the bearer token of POST /v1/admin/reload (without one, that endpoint is off)")
    parser.add_argument("--decision-log", metavar="FILE", help="append one JSON line per answered decision")
    parser.add_argument("--mask", action="append", default=[], metavar="JSON_POINTER",
                        help="leave this out of each logged record, e.g. /facts/team (repeatable)")
    parser.add_argument("--decision-log-fsync", choices=("always", "interval"), default="always",
                        help="fsync each record before answering (always), or at most once a second (interval)")
    parser.add_argument("--decision-log-max-bytes", type=int, default=100 * 1024 * 1024, metavar="BYTES",
                        help="rotate the log past this size (FILE.1 ... FILE.5; default 100 MB)")


def run(args) -> int:
    import os
    from ..errors import UsageError
    if args.workers < 1:
        raise UsageError(f"--workers: expected a number of processes, 1 or more, found {args.workers}")
    if args.workers > 1 and not hasattr(os, "fork"):
        raise UsageError("--workers needs a POSIX system (fork); run one process per port instead")
    metrics_dir = None
    if args.workers > 1:   # prometheus-client reads this when first imported: the workers' counts are summed
        import tempfile
        metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="policy-serve-metrics-")
    try:
        return _serve(args, metrics_dir)
    finally:
        if metrics_dir:
            import shutil
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _serve(args, metrics_dir) -> int:
    from ..errors import UsageError
    try:
        import uvicorn   # noqa: F401
        from ..serve import app   # noqa: F401
    except ImportError:
        raise UsageError("policy serve needs its extra: pip install -e '.[serve]'") from None
    from ..serve.decision_log import parse_pointer
    if args.mask and not args.decision_log:
        raise UsageError("--mask goes with --decision-log")
    for pointer in args.mask:
        try:
            parse_pointer(pointer)
        except ValueError as exc:
            raise UsageError(f"--mask: {exc}") from None
    token = None
    if args.admin_token_file:
        try:
            token = open(args.admin_token_file, encoding="utf-8").read().strip()
        except OSError as exc:
            raise UsageError(f"--admin-token-file: {exc.strerror}: {args.admin_token_file}") from None
        if not token:
            raise UsageError(f"--admin-token-file: {args.admin_token_file} is empty")
    rules = args.rules
    if args.bundle or args.verify_key:
        if not (args.bundle and args.verify_key):
            raise UsageError("--bundle and --verify-key go together")
        if args.rules:
            raise UsageError("--bundle or --rules, not both")
        from ..serve.bundle import Source
        rules = Source(args.bundle, args.verify_key)   # verified at each load: RuleError naming what differs
    try:
        return _listen(args, rules, token, metrics_dir)
    finally:
        if hasattr(rules, "close"):   # a bundle's unpacked folders
            rules.close()


def _listen(args, rules, token, metrics_dir) -> int:
    import uvicorn
    from ..errors import UsageError
    from ..run.ruleset import RuleStore
    from ..serve.app import create_app
    from ..serve.decision_log import DecisionLog
    from .common import frozen
    store = RuleStore(rules)   # refused unless every file validates and every case passes
    frozen()
    def open_log():
        if not args.decision_log:
            return None
        try:
            return DecisionLog(args.decision_log, args.mask, args.decision_log_fsync, args.decision_log_max_bytes)
        except OSError as exc:
            raise UsageError(f"--decision-log: {exc.strerror}: {args.decision_log}") from None
    from ..serve.workers import listen, supervise
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    where = f"http://{args.host}:{sock.getsockname()[1]}" if ":" not in args.host \
        else f"http://[{args.host}]:{sock.getsockname()[1]}"
    workers = f"{args.workers} worker{'s' if args.workers > 1 else ''}"
    say(f"answering on {where} ({len(store.current.policies)} policies, rule set {store.current.digest}; "
        f"{workers}). Stop: Ctrl-C or SIGTERM. Reload: SIGHUP{' or POST /v1/admin/reload' if token else ''}.")
    if args.workers > 1:
        if args.decision_log:
            open_log().close()   # can it be written? Said now, not by each worker

        def make_app(supervisor, activated_at):   # in each worker, after the fork: a log file of its own opening
            return create_app(store, max_body=args.max_body, decision_log=open_log(), admin_token=token,
                              activated_at=activated_at, supervisor=supervisor)
        code = supervise(store, make_app, sock, args.workers, UVICORN, metrics_dir, reported)
        say("stopped")
        return code
    log = open_log()
    app = create_app(store, max_body=args.max_body, decision_log=log, admin_token=token,
                     on_stop=lambda: say("stopped"))
    app.state.reload = reported(app.state.reload)   # SIGHUP and POST /v1/admin/reload both say what happened
    _on_sighup(app.state.reload)
    try:
        uvicorn.Server(uvicorn.Config(app, **UVICORN)).run(sockets=[sock])
    finally:
        if log is not None:
            log.close()
    return 0


def say(text: str) -> None:
    import sys
    print(f"policy serve: {text}", file=sys.stderr, flush=True)


def reported(reload):
    """reload, saying on stderr what came of it."""
    def run() -> dict:
        outcome = reload()
        for problem in outcome.get("errors", ()):
            where = f"{problem['path']}: " if problem["path"] else ""
            say(f"reload refused: {where}{problem['message']}")
        if "digest" in outcome:
            say(f"reloaded: rule set {outcome['digest']}")
        return outcome
    return run


def _on_sighup(reload) -> None:
    """SIGHUP reloads the rules (in a thread: the old set answers until the switch)."""
    import signal
    import threading

    def handler(_signum, _frame):
        threading.Thread(target=reload, daemon=True).start()
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, handler)
