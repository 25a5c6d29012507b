"""A tiny document model (headings, paragraphs, tables, lists, raw SVG) with three writers,
plain text, Markdown and HTML, so that `policy render`, `policy diff` and `policy impact`
build a document once and print it any way."""
from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field

WRAP = 60   # characters a plain-text table cell takes before it wraps


@dataclass
class Doc:
    title: str
    blocks: list = field(default_factory=list)

    def h(self, level: int, text: str):
        self.blocks.append(("h", level, text))

    def p(self, text: str, flag: bool = False):
        self.blocks.append(("p", text, flag))

    def table(self, head: list[str], rows: list[list[str]], flags: list[bool] | None = None):
        self.blocks.append(("table", head, rows, flags or [False] * len(rows)))

    def ul(self, items: list[str]):
        self.blocks.append(("ul", items))

    def code(self, text: str):
        self.blocks.append(("code", text))

    def svg(self, markup: str, caption: str):
        self.blocks.append(("svg", markup, caption))


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Doc) -> str:
    out = [f"# {doc.title}", ""]
    for block in doc.blocks:
        kind = block[0]
        if kind == "h":
            out += ["#" * (block[1] + 1) + " " + block[2], ""]
        elif kind == "p":
            out += [("**Assumed:** " if block[2] else "") + block[1], ""]
        elif kind == "table" and not any(block[1]):   # no header: name-value rows as a list
            _, head, rows, flags = block
            out += [("- ⚠ " if flag else "- ") + f"**{_md_cell(row[0])}**: " + " · ".join(_md_cell(c) for c in row[1:])
                    for row, flag in zip(rows, flags)] + [""]
        elif kind == "table":
            _, head, rows, flags = block
            out.append("| " + " | ".join(_md_cell(h) for h in head) + " |")
            out.append("|" + "---|" * len(head))
            for row, flag in zip(rows, flags):
                cells = [_md_cell(c) for c in row]
                if flag:
                    cells[0] = f"⚠ {cells[0]}"
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
        elif kind == "ul":
            out += [f"- {item}" for item in block[1]] + [""]
        elif kind == "code":
            out += ["```", block[1], "```", ""]
        elif kind == "svg":
            out += [f"*Chart: {block[2]} (in the HTML report).*", ""]
    return "\n".join(out).rstrip() + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem; color: #1d2430; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccd; }
h3 { font-size: 1.05rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .92rem; }
th, td { border: 1px solid #ccd; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #eef1f6; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flag td { background: #fff6db; } p.flag { background: #fff6db; padding: .3rem .6rem; }
code, pre { font-family: ui-monospace, monospace; font-size: .9rem; } pre { background: #f5f6f8; padding: .6rem; }
figure { margin: 1rem 0; } figcaption { font-size: .9rem; color: #556; }
"""


def _is_num(text) -> bool:
    t = str(text).replace(",", "").replace("-", "", 1).replace("+", "", 1)
    return t.replace(".", "", 1).isdigit()


def to_html(doc: Doc) -> str:
    e = html.escape
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{e(doc.title)}</title><style>{_STYLE}</style></head><body>", f"<h1>{e(doc.title)}</h1>"]
    for block in doc.blocks:
        kind = block[0]
        if kind == "h":
            out.append(f"<h{block[1] + 1}>{e(block[2])}</h{block[1] + 1}>")
        elif kind == "p":
            if block[2]:
                out.append(f'<p class="flag">⚠ <strong>Assumed:</strong> {e(block[1])}</p>')
            else:
                out.append(f"<p>{e(block[1])}</p>")
        elif kind == "table":
            _, head, rows, flags = block
            header = "<thead><tr>" + "".join(f"<th>{e(str(h))}</th>" for h in head) + "</tr></thead>" if any(head) \
                else ""   # no empty header row
            out.append(f"<table>{header}<tbody>")
            for row, flag in zip(rows, flags):
                row = [f"⚠ {row[0]}", *row[1:]] if flag else row   # marked in words too, not by colour alone
                cells = "".join(f'<td class="num">{e(str(c))}</td>' if _is_num(c) else f"<td>{e(str(c))}</td>"
                                for c in row)
                out.append(f'<tr class="flag">{cells}</tr>' if flag else f"<tr>{cells}</tr>")
            out.append("</tbody></table>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in block[1]) + "</ul>")
        elif kind == "code":
            out.append(f"<pre>{e(block[1])}</pre>")
        elif kind == "svg":
            out.append(f"<figure>{block[1]}<figcaption>{e(block[2])}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def to_text(doc: Doc) -> str:
    """Plain text for a terminal: headings underlined, tables as aligned columns."""
    out = [doc.title, "=" * len(doc.title), ""]
    for block in doc.blocks:
        kind = block[0]
        if kind == "h":
            out += [block[2], ("-" if block[1] == 1 else "~") * len(block[2]), ""]
        elif kind == "p":
            out += [("⚠ Assumed: " if block[2] else "") + block[1], ""]
        elif kind == "table":
            _, head, rows, flags = block
            rows = [[f"⚠ {row[0]}", *row[1:]] if flag else list(row) for row, flag in zip(rows, flags)]
            header = [list(head)] if any(head) else []   # no empty header row
            cells = [[str(c).replace("\n", " ") for c in row] for row in header + rows]
            widths = [min(WRAP, max(len(row[i]) for row in cells)) for i in range(len(head))]

            def lines(row):   # a row, its long cells wrapped onto lines of their own
                parts = [textwrap.wrap(c, w, break_long_words=False, break_on_hyphens=False) or [""]
                         for c, w in zip(row, widths)]
                return ["  ".join((p[n] if n < len(p) else "").rjust(w) if _is_num(c) else
                                  (p[n] if n < len(p) else "").ljust(w) for c, p, w in zip(row, parts, widths)).rstrip()
                        for n in range(max(len(p) for p in parts))]
            if header:
                out += lines(cells[0]) + ["  ".join("-" * w for w in widths)]
            for row in cells[len(header):]:
                out += lines(row)
            out.append("")
        elif kind == "ul":
            out += [f"- {item}" for item in block[1]] + [""]
        elif kind == "code":
            out += ["    " + t for t in block[1].splitlines()] + [""]
        elif kind == "svg":
            out += [f"(Chart: {block[2]}; in the HTML report.)", ""]
    return "\n".join(out).rstrip() + "\n"


def write(doc: Doc, fmt: str) -> str:
    return to_html(doc) if fmt == "html" else to_text(doc) if fmt == "text" else to_markdown(doc)
