"""The decision log: one JSON line per answered decision (`decision_id`, `timestamp`,
`policy`, `version`, `digest`, `facts`, `result`), less what `--mask` JSON pointers name,
written, flushed and (by default) fsynced before the answer is sent, so that a crash loses
no decision that was answered. Rotated by size: FILE.1 is the previous file, up to FILE.N.
"""
from __future__ import annotations

import json
import os
import threading
import time

from ..report.decision import _json_default

try:
    import fcntl
except ImportError:   # not a Unix: one process writes the log (there are no --workers there)
    fcntl = None


def parse_pointer(text: str) -> tuple[str, ...]:
    """An RFC 6901 JSON pointer ('/facts/team') as its keys. ValueError if it is not one."""
    if not text.startswith("/") or text == "/":
        raise ValueError(f"a JSON pointer starts with '/' and names a key, such as /facts/team; found {text!r}")
    return tuple(part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/"))


def masked(record: dict, pointers) -> dict:
    """The record less each pointer's value (the dicts on the way copied, never changed)."""
    for keys in pointers:
        record = _drop(record, keys)
    return record


def _drop(value, keys):
    if not keys:
        return value
    head, rest = keys[0], keys[1:]
    if isinstance(value, dict) and head in value:
        out = dict(value)
        if rest:
            out[head] = _drop(value[head], rest)
        else:
            del out[head]
        return out
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        out = list(value)
        if rest:
            out[int(head)] = _drop(value[int(head)], rest)
        else:
            del out[int(head)]
        return out
    return value   # nothing there: nothing to drop


class DecisionLog:
    """Appends records; safe for threads and for processes (the workers of `policy serve
    --workers N` share one file). Each record is one write() to a file opened for
    appending, so records never interleave; rotation is done under an flock of FILE.lock,
    and a process whose file was rotated by another opens the new one before writing.
    fsync 'always' (each record) or 'interval' (at most once a second: a crash of the
    machine, not of the process, may lose that second)."""

    def __init__(self, path, masks=(), fsync: str = "always", max_bytes: int = 100 * 1024 * 1024,
                 backups: int = 5):
        if fsync not in ("always", "interval"):
            raise ValueError("fsync is 'always' or 'interval'")
        self.path, self.fsync, self.max_bytes, self.backups = os.fspath(path), fsync, max_bytes, backups
        self.masks = tuple(parse_pointer(m) for m in masks)
        self._lock = threading.Lock()
        self._encode = json.JSONEncoder(ensure_ascii=False, default=_json_default).encode
        self._synced = 0.0
        self._fd = self._open()
        self._lockfd = os.open(self.path + ".lock", os.O_WRONLY | os.O_CREAT, 0o644)

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: dict) -> None:
        line = (self._encode(masked(record, self.masks)) + "\n").encode("utf-8")
        with self._lock:
            if fcntl is not None:
                fcntl.flock(self._lockfd, fcntl.LOCK_EX)
            try:
                self._follow()
                if os.fstat(self._fd).st_size + len(line) > self.max_bytes and os.fstat(self._fd).st_size > 0:
                    self._rotate()
                view = memoryview(line)
                while view:   # one write() for a regular file; the loop only guards a short one
                    view = view[os.write(self._fd, view):]
                now = time.monotonic()
                if self.fsync == "always" or now - self._synced >= 1.0:
                    os.fsync(self._fd)
                    self._synced = now
            finally:
                if fcntl is not None:
                    fcntl.flock(self._lockfd, fcntl.LOCK_UN)

    def _follow(self) -> None:
        """Open FILE again if another process rotated it away from under this one."""
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            current = None
        mine = os.fstat(self._fd)
        if current is None or (current.st_ino, current.st_dev) != (mine.st_ino, mine.st_dev):
            os.close(self._fd)
            self._fd = self._open()

    def _rotate(self) -> None:
        os.fsync(self._fd)
        os.close(self._fd)
        for n in range(self.backups - 1, 0, -1):
            older = f"{self.path}.{n}"
            if os.path.exists(older):
                os.replace(older, f"{self.path}.{n + 1}")
        os.replace(self.path, f"{self.path}.1")
        self._fd = self._open()

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.fsync(self._fd)
                os.close(self._fd)
                os.close(self._lockfd)
                self._fd = -1
