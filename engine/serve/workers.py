"""`policy serve --workers N`: N processes answer on one listening socket, under a
supervising process that holds the rule set and is the only one to reload it.

Why not uvicorn's own --workers: its supervisor restarts every worker on SIGHUP, and each
new worker loads the rules itself, so a broken rule set would take the service down
instead of being refused. Here a reload (SIGHUP to the supervisor, or POST
/v1/admin/reload to any worker, which asks the supervisor over a pipe) goes through the
gate of RuleStore.reload() once, in the supervisor. Only if the new set passes are N new
workers forked from it; once they are ready, the old ones are stopped gracefully (they
finish what they are answering). Until then the old set answers. A worker that dies is
replaced, with the set in use.

POSIX only (fork, and the workers inherit the socket and the loaded rules).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.connection import wait

READY_WITHIN = 60.0   # seconds a new worker has to start answering
STOP_WITHIN = 30.0    # seconds a stopped worker has to finish what it is answering
BUSY = {"errors": [{"path": "", "message": "another reload is under way; ask again once it is done"}]}


class Worker:
    def __init__(self, process, conn, generation: int):
        self.process, self.conn, self.generation = process, conn, generation
        self.ready = False
        self.started = time.monotonic()


def listen(host: str, port: int) -> socket.socket:
    """The listening socket (bound here, so that a port in use is said before anything starts)."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(2048)
    except OSError:
        listener.close()
        raise
    listener.set_inheritable(True)
    return listener


def supervise(store, make_app, listener, count: int, uvicorn_options: dict, metrics_dir: str, reported) -> int:
    """Run until SIGTERM or SIGINT. make_app(supervisor, activated_at) builds a worker's app;
    reported(reload) wraps a reload so that what came of it is said."""
    from ..run.versions import fmt_ts
    from .app import now, problems
    from .metrics import Metrics
    ctx = multiprocessing.get_context("fork")
    metrics = Metrics()   # the supervisor counts reloads; the workers count decisions
    state = {"activated_at": now(), "generation": 0, "stop": False, "reload": False}
    workers: list[Worker] = []

    def spawn(generation: int) -> Worker:
        mine, theirs = ctx.Pipe()
        process = ctx.Process(target=_worker_main, daemon=False, name=f"policy-serve-worker-{generation}",
                              args=(theirs, listener, make_app, state["activated_at"], uvicorn_options))
        process.start()
        theirs.close()
        worker = Worker(process, mine, generation)
        workers.append(worker)
        return worker

    def await_ready(batch: list[Worker]) -> bool:
        deadline = time.monotonic() + READY_WITHIN
        while not all(w.ready for w in batch):
            left = deadline - time.monotonic()
            if left <= 0 or any(not w.process.is_alive() for w in batch):
                return False
            for conn in wait([w.conn for w in batch if not w.ready], timeout=min(left, 0.5)):
                worker = next(w for w in batch if w.conn is conn)
                try:
                    message = conn.recv()
                except EOFError:
                    return False
                if message == "ready":
                    worker.ready = True
                else:   # a reload asked of a worker not yet announced: one reload at a time
                    conn.send(BUSY)
        return True

    def retire(old: list[Worker]) -> None:
        for w in old:
            if w.process.is_alive():
                w.process.terminate()   # uvicorn's graceful shutdown: in-flight answers finish
        for w in old:
            w.process.join(STOP_WITHIN)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
            _gone(w, workers, metrics_dir)

    def reload(reply=None) -> dict:
        """The gate, then a new generation of workers; reply(outcome) is called before the
        old workers are stopped (one of them may be waiting for it)."""
        reply = reply or (lambda outcome: None)
        errors = store.reload()
        metrics.reloads.labels(outcome="refused" if errors else "activated").inc()
        if errors:
            outcome = {"errors": problems(errors)}
            reply(outcome)
            return outcome
        state["activated_at"] = now()
        state["generation"] += 1
        old = [w for w in workers if w.generation < state["generation"]]
        fresh = [spawn(state["generation"]) for _ in range(count)]
        if not await_ready(fresh):
            print("policy serve: the new workers did not start; the old ones go on", file=sys.stderr)
            retire(fresh)
            outcome = {"errors": [{"path": "", "message": "the new workers did not start (see the server's stderr)"}]}
        else:
            outcome = {"digest": store.current.digest, "activated_at": fmt_ts(state["activated_at"])}
        reply(outcome)
        if "digest" in outcome:
            retire(old)
        return outcome

    def on_signal(signum, _frame):
        state["stop" if signum in (signal.SIGTERM, signal.SIGINT) else "reload"] = True

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    first = [spawn(0) for _ in range(count)]
    if not await_ready(first):
        retire(first)
        print("policy serve: the workers did not start", file=sys.stderr)
        return 1
    quick_deaths = 0
    try:
        while not state["stop"]:
            if state["reload"]:
                state["reload"] = False
                reported(reload)()
            ready = wait([w.conn for w in workers] + [w.process.sentinel for w in workers], timeout=0.5)
            for item in ready:
                worker = next((w for w in workers if item in (w.conn, w.process.sentinel)), None)
                if worker is None:
                    continue
                if item is worker.conn:
                    try:
                        message = worker.conn.recv()
                    except EOFError:
                        continue   # it is dying: its sentinel says so
                    if message == "reload":
                        reported(lambda: reload(worker.conn.send))()
                    elif message == "ready":
                        worker.ready = True
                elif not worker.process.is_alive() and worker in workers:   # died: replace it
                    worker.process.join()
                    _gone(worker, workers, metrics_dir)
                    if state["stop"]:
                        continue
                    quick_deaths = quick_deaths + 1 if time.monotonic() - worker.started < 5 else 0
                    if quick_deaths > 2 * count:
                        print("policy serve: workers keep dying as they start; stopping", file=sys.stderr)
                        return 1
                    print(f"policy serve: worker {worker.process.pid} exited ({worker.process.exitcode}); "
                          "starting another", file=sys.stderr)
                    spawn(worker.generation)
    finally:
        retire(list(workers))
        listener.close()
    return 0


def _gone(worker: Worker, workers: list, metrics_dir: str) -> None:
    if worker in workers:
        workers.remove(worker)
    worker.conn.close()
    if metrics_dir:
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.process.pid, metrics_dir)


def _worker_main(conn, listener, make_app, activated_at, uvicorn_options) -> None:
    """A worker: uvicorn on the inherited socket, until the supervisor stops it."""
    import uvicorn
    for signum in (signal.SIGTERM, signal.SIGINT):   # uvicorn installs its own while serving
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)   # reloads are the supervisor's
    asking = threading.Lock()

    def supervisor() -> dict:
        """Ask the supervisor to reload every worker; its answer, once done."""
        with asking:
            conn.send("reload")
            return conn.recv()

    server = uvicorn.Server(uvicorn.Config(make_app(supervisor, activated_at), **uvicorn_options))

    def announce():
        while not server.started and not server.should_exit:
            time.sleep(0.01)
        if server.started:
            with asking:
                conn.send("ready")
    threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[listener])
    os._exit(0)   # nothing of the supervisor's (atexit, open files) runs here
