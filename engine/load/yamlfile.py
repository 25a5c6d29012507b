"""Strict YAML: plain data with a source position for every node.

Built from PyYAML's event stream (the C parser when available) rather than its
constructors, so that nothing is guessed: numbers become Decimal (or int) from their
text, and the YAML 1.1 surprises (yes/no as booleans, 1:30 as 90, 012 as octal, bare
dates, .inf) are refused instead of silently converted. Duplicate keys, anchors,
aliases and explicit tags are refused too.
"""
from __future__ import annotations

import re
from decimal import Decimal

import yaml

from ..errors import Diagnostic, RuleError

try:  # the C parser is several times faster; fall back where libyaml is missing
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

_INT = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_DEC = re.compile(r"-?(0|[1-9][0-9]*)\.[0-9]+\Z")
_NULL = {"null", "Null", "NULL", "~", ""}
_BOOL = {"true": True, "false": False}
# What YAML 1.1 (and so PyYAML) would turn into something other than a string.
_YAML11_BOOL = re.compile(r"(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|True|TRUE|False|FALSE)\Z")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?\Z")
# PyYAML's own timestamp pattern: a date, or a date and a time
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}"
                   r"(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?\Z")
_RADIX = re.compile(r"[-+]?0(x[0-9a-fA-F_]+|o?[0-7_]+|b[01_]+)\Z")
_NUMBERISH = re.compile(r"[-+]?(\.[0-9]|[0-9])[0-9_.,eExXoObB+-]*\Z|[-+]?\.(inf|Inf|INF|nan|NaN|NAN)\Z")

MAX_DEPTH = 64


class Source:
    """A loaded document: `data` (dicts, lists, str, int, Decimal, bool, None) and the
    position of every node, keyed by its path (a tuple of keys and indexes)."""

    def __init__(self, path: str, data, marks: dict, key_marks: dict, styles: dict, spans=None, text=""):
        self.path = path
        self.data = data
        self.marks = marks          # path -> (line, col), 1-based
        self.key_marks = key_marks  # path -> (line, col) of the mapping key itself
        self.styles = styles        # path -> scalar style (None for plain)
        self.spans = spans or {}    # path -> (start, end) character offsets of a scalar
        self.text = text

    def where(self, path=(), key: bool = False) -> str:
        """'file:line:col' of the node at path, or of the nearest ancestor that has one."""
        path = tuple(path)
        while True:
            table = self.key_marks if key and path in self.key_marks else self.marks
            if path in table:
                line, col = table[path]
                return f"{self.path}:{line}:{col}"
            if not path:
                return f"{self.path}:1:1"
            path = path[:-1]
            key = False

    def data_at(self, path):
        """The value at path, or None."""
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def diag(self, path, message: str, key: bool = False) -> Diagnostic:
        return Diagnostic(self.where(path, key), message)


def _pos(mark) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _scalar(event, errors, where):
    """The value of a scalar event, by our strict rules."""
    text = event.value
    if event.tag not in (None, "!", "tag:yaml.org,2002:str"):
        errors.append(Diagnostic(where, f"explicit tag '{event.tag}' is not allowed; write the value plainly"))
        return text
    if not event.implicit[0]:  # quoted, block or !!str: a string
        return text
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        return int(text)
    if _DEC.match(text):
        return Decimal(text)
    if _YAML11_BOOL.match(text):
        errors.append(Diagnostic(where, f"'{text}' is a boolean in YAML 1.1; write true or false, or quote it as a string"))
    elif _DATE.match(text):
        errors.append(Diagnostic(where, f"unquoted date '{text}' would be read as a timestamp; quote it: \"{text}\""))
    elif _SEXAGESIMAL.match(text):
        errors.append(Diagnostic(where, f"'{text}' is a base-60 number in YAML 1.1; quote it if it is text"))
    elif _NUMBERISH.match(text) or _RADIX.match(text):
        errors.append(Diagnostic(where, f"'{text}' is neither text nor a plain decimal number: quote it if it is "
                                        f"text (\"{text}\"); a number is digits with an optional '-' and '.', "
                                        "no leading zeros, exponents, '+', '_' or .inf/.nan"))
    return text


# libyaml's context phrases, said as where the unfinished thing began
_CONTEXTS = {
    "while parsing a flow mapping": "in the flow mapping '{' opened",
    "while parsing a flow sequence": "in the flow sequence '[' opened",
    "while parsing a block mapping": "in the mapping that starts",
    "while parsing a block collection": "in the list that starts",
    "while scanning a quoted scalar": "in the quoted text that starts",
    "while scanning a simple key": "in the key that starts",
}


def _char_at(text: str, line: int, col: int) -> str:
    lines = text.split("\n")
    return lines[line][col] if line < len(lines) and col < len(lines[line]) else ""


def _events(text: str, loader, path: str):
    """The parser's events, cut off at the first collection nested deeper than MAX_DEPTH
    (so a nesting bomb stops there, whatever follows it)."""
    depth = 0
    for ev in yaml.parse(text, Loader=loader):
        if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            if depth > MAX_DEPTH:
                m = ev.start_mark
                raise RuleError(Diagnostic(f"{path}:{m.line + 1}:{m.column + 1}", f"nesting deeper than {MAX_DEPTH} levels"))
            depth += 1
        elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
        yield ev


def load_yaml(text: str | bytes, path: str) -> Source:
    """Parse one YAML document strictly. Raises RuleError listing every problem found."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = text[: exc.start].count(b"\n") + 1
            col = exc.start - (text.rfind(b"\n", 0, exc.start) + 1) + 1
            raise RuleError(Diagnostic(f"{path}:{line}:{col}", "the file is not valid UTF-8 "
                                       f"(byte 0x{text[exc.start]:02x})")) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    errors: list[Diagnostic] = []
    marks: dict = {}
    key_marks: dict = {}
    styles: dict = {}
    spans: dict = {}
    try:
        try:
            events = list(_events(text, _Loader, path))
        except yaml.MarkedYAMLError as exc:
            # libyaml has its own flow-nesting limit (about 1,000 levels, and the scanner
            # reads ahead, so it speaks before the walk below sees level 65). Our limit
            # must win whatever the library's: read the file again with PyYAML's
            # pure-Python parser, which has none, and stop at our own level.
            if "maximum nesting depth" not in str(exc.problem) or _Loader is yaml.SafeLoader:
                raise
            events = list(_events(text, yaml.SafeLoader, path))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        problem = exc.problem or exc.context or "not valid YAML"
        if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
            problem += " (indent with spaces, not tabs)"
        elif "mapping values are not allowed" in problem:
            problem += " (a ': ' inside a value: put the whole value in quotes)"
        elif "did not find expected key" in problem and exc.context == "while parsing a block mapping":
            c = exc.context_mark
            problem += (f" (in the mapping that starts at line {c.line + 1}, column {c.column + 1}; "
                        "is a quote left open or an indent off?)")
            exc.context = None
        elif exc.context and exc.context_mark is not None and exc.context_mark is not mark:
            c = exc.context_mark
            opened = _CONTEXTS.get(exc.context, exc.context)
            problem += f" ({opened} at line {c.line + 1}, column {c.column + 1})"
        raise RuleError(Diagnostic(where, f"YAML syntax error: {problem}")) from None
    except yaml.YAMLError as exc:
        raise RuleError(Diagnostic(path, f"YAML error: {exc}")) from None

    pos = 0
    docs = [e for e in events if isinstance(e, yaml.DocumentStartEvent)]
    if not docs or (len(events) >= 4 and isinstance(events[2], yaml.DocumentEndEvent)):
        raise RuleError(Diagnostic(f"{path}:1:1", "the file is empty; expected a YAML mapping"))
    if len(docs) > 1:
        m = docs[1].start_mark
        raise RuleError(Diagnostic(f"{path}:{m.line + 1}:{m.column + 1}", "only one YAML document per file is allowed"))

    def node(at: tuple, depth: int):
        nonlocal pos
        ev = events[pos]
        pos += 1
        where = f"{path}:{ev.start_mark.line + 1}:{ev.start_mark.column + 1}"
        marks[at] = _pos(ev.start_mark)
        if isinstance(ev, yaml.AliasEvent):
            errors.append(Diagnostic(where, f"alias '*{ev.anchor}' is not allowed; write the value out"))
            return None
        if getattr(ev, "anchor", None):
            errors.append(Diagnostic(where, f"anchor '&{ev.anchor}' is not allowed; rule files use no anchors or aliases"))
        if depth > MAX_DEPTH:
            raise RuleError(Diagnostic(where, f"nesting deeper than {MAX_DEPTH} levels"))
        if isinstance(ev, yaml.ScalarEvent):
            styles[at] = ev.style or None
            spans[at] = (ev.start_mark.index, ev.end_mark.index)
            return _scalar(ev, errors, where)
        if isinstance(ev, yaml.SequenceStartEvent):
            if ev.tag not in (None, "!", "tag:yaml.org,2002:seq"):
                errors.append(Diagnostic(where, f"explicit tag '{ev.tag}' is not allowed"))
            out = []
            while not isinstance(events[pos], yaml.SequenceEndEvent):
                out.append(node(at + (len(out),), depth + 1))
            pos += 1
            return out
        if isinstance(ev, yaml.MappingStartEvent):
            if ev.tag not in (None, "!", "tag:yaml.org,2002:map"):
                errors.append(Diagnostic(where, f"explicit tag '{ev.tag}' is not allowed"))
            out = {}
            while not isinstance(events[pos], yaml.MappingEndEvent):
                kev = events[pos]
                kwhere = f"{path}:{kev.start_mark.line + 1}:{kev.start_mark.column + 1}"
                key = node(at + ("<key>",), depth + 1)
                marks.pop(at + ("<key>",), None)
                styles.pop(at + ("<key>",), None)
                if isinstance(key, (dict, list)) or key is None:
                    errors.append(Diagnostic(kwhere, "a mapping key must be a plain string"))
                    key = f"<bad key at {kwhere}>"
                key = str(key) if not isinstance(key, bool) else ("true" if key else "false")
                if key in out:
                    first = key_marks[at + (key,)]
                    errors.append(Diagnostic(kwhere, f"duplicate key '{key}' (first at line {first[0]})"))
                    node(at + (key, "<dup>"), depth + 1)
                    continue
                key_marks[at + (key,)] = _pos(kev.start_mark)
                out[key] = node(at + (key,), depth + 1)
            pos += 1
            return out
        raise RuleError(Diagnostic(where, f"unexpected YAML event {type(ev).__name__}"))  # pragma: no cover

    # StreamStart, DocumentStart, <root>, DocumentEnd, StreamEnd
    pos = 2
    data = node((), 0)
    if errors:
        raise RuleError(errors)
    return Source(path, data, marks, key_marks, styles, spans, text)
