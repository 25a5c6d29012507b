"""`policy impact --scheduler local|tcp://HOST:PORT`: the population's chunks decided on a
Dask cluster (distributed), a LocalCluster on this machine or an existing one.

The rule files travel with the job (scattered once to every worker), so a worker needs the
engine installed but not the rules folder. Each worker loads them once, keyed by their
digest, and the tallies it returns name the versions and digests it decided with: a worker
that decided with other rules makes the merge fail. Chunks are read as they are needed and
a bounded number is in flight, so memory does not grow with the population. Tallies merge
in any order to the same report, so chunks are folded as they finish.
"""
from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path

from ..errors import RunError, UsageError
from .impact import AHEAD, CHUNK, Folding, Tally, chunks, numbered, partition

CONNECT_WITHIN = "10s"
_LOADED: dict = {}   # in a worker: digest of the rule files -> the RuleSet
_LOADING = threading.Lock()


def rule_files(rules) -> dict[str, bytes]:
    """name -> bytes of every rule, case, chart and schema file the rule set was loaded from."""
    from .ruleset import shipped_dir
    root = Path(rules.root)
    schemas = root.parent / "schemas" if (root.parent / "schemas").is_dir() else shipped_dir("schemas")
    files = {}
    for base, prefix in ((root, "rules"), (schemas, "schemas")):
        for file in sorted(base.rglob("*")):
            if file.is_file() and file.suffix.lower() in (".yaml", ".yml", ".json") and "__pycache__" not in file.parts:
                files[f"{prefix}/{file.relative_to(base).as_posix()}"] = file.read_bytes()
    return files


def files_digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def _rules_in_worker(files: dict[str, bytes], digest: str):
    """The rule set of these files, loaded once per worker process (a worker may run several
    threads: one loads, the others wait). The files are removed once loaded."""
    with _LOADING:
        if digest not in _LOADED:
            import shutil
            from .ruleset import load_rules
            root = Path(tempfile.mkdtemp(prefix="policy-impact-"))
            try:
                for name, data in files.items():
                    target = root / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                rules = load_rules(root / "rules", check_schemas=False)
            finally:
                shutil.rmtree(root, ignore_errors=True)
            if len(_LOADED) > 4:   # a long-lived worker that served many rule sets
                _LOADED.clear()
            _LOADED[digest] = rules
        return _LOADED[digest]


def _task(files, digest, policy, old, new, lines, as_of, known_at) -> Tally:
    return partition(_rules_in_worker(files, digest), policy, old, new, lines, as_of, known_at)


def connect(scheduler: str, workers: int):
    """A dask.distributed Client: on a new LocalCluster of `workers` processes ("local"), or
    on the cluster at a scheduler address. UsageError if it cannot be had."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install -e '.[dask]'") from None
    if scheduler == "local":
        import warnings
        with warnings.catch_warnings():   # "port 8787 is in use": its HTTP server moves on, and we do not use it
            warnings.simplefilter("ignore", UserWarning)
            cluster = LocalCluster(n_workers=max(workers, 1), threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=50)
        try:
            return Client(cluster), cluster
        except BaseException:
            cluster.close()
            raise
    if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise UsageError(f"--scheduler: expected local or an address such as tcp://HOST:8786, found {scheduler!r}")
    try:
        return Client(scheduler, timeout=CONNECT_WITHIN), None
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"--scheduler: cannot reach the Dask scheduler at {scheduler} ({exc})") from None


def run(rules, policy: str, old: str, new: str, stream, as_of, known_at, scheduler: str, workers: int,
        progress=None, task=_task) -> Tally:
    """The Tally of every line of stream, decided on the cluster (task: what a worker runs on
    a chunk; the tests give one that dies)."""
    from dask.distributed import wait
    client, cluster = connect(scheduler, workers)
    try:
        files = rule_files(rules)
        digest = files_digest(files)
        [shipped] = client.scatter([files], broadcast=True)   # once to each worker, not with every chunk
        total = partition(rules, policy, old, new, [], as_of, known_at)
        folding = Folding(total, progress)
        slots = max(workers, len(client.scheduler_info().get("workers", {})) or 1) * AHEAD
        pending = set()

        def fold(finished) -> None:
            for future in finished:
                try:
                    part = future.result()
                except Exception as exc:   # a worker that died, a task the cluster gave up on
                    raise RunError(f"the Dask run failed, so there is no report: {type(exc).__name__}: {exc}") \
                        from None
                folding(part)

        for start, lines in chunks(stream, CHUNK):
            pending.add(client.submit(task, shipped, digest, policy, old, new, numbered(start, lines), as_of,
                                      known_at, pure=False))
            if len(pending) >= slots:   # bounded: memory does not grow with the population
                finished = wait(pending, return_when="FIRST_COMPLETED").done
                pending -= finished
                fold(finished)
        fold(pending)
        return total
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
