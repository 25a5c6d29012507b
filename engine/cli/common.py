"""What several subcommands share: loading the rule set named by --rules."""
from __future__ import annotations

import gc

from ..run.ruleset import RuleSet, load_rules


def rules_from(args, check_schemas: bool = True) -> RuleSet:
    rules = load_rules(args.rules, check_schemas=check_schemas)
    frozen()
    return rules


def frozen() -> None:
    """The loaded rules are for the life of the process: out of the garbage collector's sight
    (gc.freeze), so that its collections during decisions do not walk them again and again."""
    gc.collect()
    gc.freeze()


class Progress:
    """A progress line on stderr for long runs over a file (batch, impact): lines done, the
    rate, and the time left (from how far into the file the reading is). Only on a
    terminal: progress(stream) gives None otherwise, and nothing is written."""

    def __init__(self, stream):
        import os
        import stat
        import time
        self.stream, self.clock = stream, time.monotonic
        self.start = self.shown = self.clock()
        try:
            info = os.fstat(stream.fileno())
            self.size = info.st_size if stat.S_ISREG(info.st_mode) else None   # a pipe has no end to count to
        except (OSError, ValueError, AttributeError):
            self.size = None

    def __call__(self, done: int, failed: int) -> None:
        import sys
        now = self.clock()
        if now - self.shown < 0.25:
            return
        self.shown = now
        elapsed = now - self.start
        text = f"{done:,} lines, {failed:,} failed, {done / max(elapsed, 1e-9):,.0f} a second"
        position = self._position()
        if self.size and position:
            share = min(position / self.size, 1.0)
            left = elapsed * (1 - share) / max(share, 1e-9)
            text += f", {share:.0%} read, about {_duration(left)} left"
        sys.stderr.write("\r" + text.ljust(78))
        sys.stderr.flush()

    def _position(self):
        try:
            return self.stream.tell()
        except (OSError, ValueError, AttributeError):
            return None

    def done(self) -> None:
        import sys
        sys.stderr.write("\n")


def progress(stream):
    """A Progress for stream when stderr is a terminal, else None."""
    import sys
    return Progress(stream) if sys.stderr.isatty() else None


def _duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
