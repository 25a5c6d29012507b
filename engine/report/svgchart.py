"""A line chart as plain SVG: a few series of (x, y) Decimals, axes with round ticks, a
legend. No plotting dependency for one kind of chart."""
from __future__ import annotations

import html
from decimal import Decimal

COLOURS = ["#1f5fbf", "#d9480f", "#2b8a3e", "#862e9c"]
WIDTH, HEIGHT = 760, 400
LEFT, RIGHT, TOP, BOTTOM = 90, 20, 20, 60


def _nice_step(span: Decimal) -> Decimal:
    """A round tick step giving about five ticks."""
    if span <= 0:
        return Decimal(1)
    raw = span / 5
    power = Decimal(10) ** (raw.adjusted())
    for m in (1, 2, 5, 10):
        if power * m >= raw:
            return power * m
    return power * 10


def _label(v: Decimal) -> str:
    a = abs(v)
    for size, suffix in ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "k")):
        if a >= size:
            return f"{(v / size).normalize():f}{suffix}"
    return f"{v.normalize():f}"


def _ticks(lo: Decimal, hi: Decimal, step: Decimal):
    """The multiples of step from lo to hi."""
    tick = (lo / step).to_integral_value(rounding="ROUND_CEILING") * step
    while tick <= hi:
        yield tick
        tick += step


def line_chart(series: dict, x_label: str, y_label: str) -> str:
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [y for pts in series.values() for _, y in pts]
    x_lo, x_hi = min(xs), max(xs)
    y_lo, y_hi = min(min(ys), Decimal(0)), max(ys)
    y_step = _nice_step(y_hi - y_lo)
    y_hi = (y_hi / y_step).to_integral_value(rounding="ROUND_CEILING") * y_step or y_step
    x_step = _nice_step(x_hi - x_lo)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x):
        return LEFT + (x - x_lo) / (x_hi - x_lo or 1) * plot_w   # Decimal: pixels need no float

    def py(y):
        return TOP + plot_h - (y - y_lo) / (y_hi - y_lo or 1) * plot_h

    e = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="system-ui, sans-serif" font-size="12">',
           f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fbfcfe" stroke="#99a"/>']
    for tick in _ticks(y_lo, y_hi, y_step):
        y = py(tick)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#e3e6ec"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{e(_label(tick))}</text>')
    for tick in _ticks(x_lo, x_hi, x_step):
        x = px(tick)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#e3e6ec"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{e(_label(tick))}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 18}" text-anchor="middle" font-size="13">{e(x_label)}</text>')
    out.append(f'<text transform="translate(18 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle" '
               f'font-size="13">{e(y_label)}</text>')
    for i, (name, pts) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{'M' if j == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for j, (x, y) in enumerate(pts))
        dash = ' stroke-dasharray="6 4"' if i else ""
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.2"{dash}/>')
        ly = TOP + 14 + 18 * i
        out.append(f'<line x1="{LEFT + 12}" y1="{ly}" x2="{LEFT + 40}" y2="{ly}" stroke="{colour}" '
                   f'stroke-width="2.2"{dash}/>')
        out.append(f'<text x="{LEFT + 46}" y="{ly + 4}">{e(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)
