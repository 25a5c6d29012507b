"""`policy serve`: the decision service (engine.serve), on uvicorn."""
from __future__ import annotations

HELP = "serve decisions over HTTP (DESIGN section 7): POST /v1/decisions/POLICY, health, policies, status"


def add_arguments(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8181, help="the port (default 8181)")
    parser.add_argument("--max-body", type=int, default=10 * 1024 * 1024, metavar="BYTES",
                        help="the largest request body (default 10 MB): larger ones get 413")


def run(args) -> int:
    try:
        import uvicorn
        from ..serve.app import create_app
    except ImportError:
        from ..errors import UsageError
        raise UsageError("policy serve needs its extra: pip install -e '.[serve]'") from None
    from ..run.ruleset import RuleStore
    from .common import frozen
    store = RuleStore(args.rules)   # refused unless every file validates and every case passes
    frozen()
    uvicorn.run(create_app(store, max_body=args.max_body), host=args.host, port=args.port, log_level="warning")
    return 0
