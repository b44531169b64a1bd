"""A report's charts as inline SVG, so the HTML page needs nothing from outside."""

from __future__ import annotations

import html

from playground.evaluation.report import ComparisonReport
from playground.evaluation.scales import column_label, format_value, shown


def bar_chart_svg(report: ComparisonReport) -> str:
    """Bars of the primary metric's mean per variant with CI whiskers, as inline SVG, on the
    scale the tables show (BLEU and chrF on 0–1)."""
    metric = report.primary
    if metric is None:
        return ""
    estimates = [(v.name, v.metrics.get(metric)) for v in report.variants]
    values = [e for _, e in estimates if e is not None]
    if not values:
        return ""
    top = shown(metric, max(e.high for e in values)) or 1.0
    width, bar_h, gap, left = 640, 26, 10, 180
    height = len(estimates) * (bar_h + gap) + 30
    scale = (width - left - 40) / top
    parts = [f'<svg role="img" aria-label="{html.escape(column_label(metric))} by variant" '
             f'width="{width}" '
             f'height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="12">']
    for n, (name, est) in enumerate(estimates):
        y = 10 + n * (bar_h + gap)
        parts.append(f'<text x="{left - 8}" y="{y + bar_h * 0.65}" text-anchor="end">'
                     f"{html.escape(name)}</text>")
        if est is None:
            parts.append(f'<text x="{left}" y="{y + bar_h * 0.65}">N/A</text>')
            continue
        mean, low, high = (shown(metric, v) for v in (est.mean, est.low, est.high))
        parts.append(f'<rect x="{left}" y="{y}" width="{mean * scale:.1f}" '
                     f'height="{bar_h}" fill="#4c78a8"/>')
        cy = y + bar_h / 2
        parts.append(f'<line x1="{left + low * scale:.1f}" x2="{left + high * scale:.1f}" '
                     f'y1="{cy}" y2="{cy}" stroke="#222" stroke-width="2"/>')
        parts.append(f'<text x="{left + mean * scale + 6:.1f}" y="{y - 2 + bar_h}" '
                     f'fill="#222">{format_value(metric, est.mean)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def sweep_chart_svg(report: ComparisonReport) -> str:
    """Quality (primary metric, scaled to its own maximum) and variety (distinct-2, 0–1) as two
    lines over the swept setting, as inline SVG."""
    assert report.primary is not None
    quality = [(x, y) for x, y in report.sweep_series(report.primary) if y is not None]
    # Distinct-2 where outputs are long enough to have word pairs, else distinct-1.
    variety_metric = "distinct_2"
    variety = [(x, y) for x, y in report.sweep_series("distinct_2") if y is not None]
    if not variety:
        variety_metric = "distinct_1"
        variety = [(x, y) for x, y in report.sweep_series("distinct_1") if y is not None]
    xs = [x for x, _ in report.sweep]
    if len(xs) < 2:
        return ""
    width, height, pad = 640, 260, 40
    lo, hi = min(xs), max(xs)
    q_top = max((y for _, y in quality), default=1.0) or 1.0

    def px(x: float) -> float:
        return pad + (x - lo) / ((hi - lo) or 1.0) * (width - 2 * pad)

    def py(y: float, top: float) -> float:
        return height - pad - y / top * (height - 2 * pad)

    parts = [f'<svg role="img" aria-label="sweep" width="{width}" height="{height}" '
             'xmlns="http://www.w3.org/2000/svg" font-size="12">',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
             'stroke="#888"/>']
    for series, top, colour, label in ((quality, q_top, "#4c78a8", report.primary),
                                       (variety, 1.0, "#e45756", variety_metric)):
        if series:
            points = " ".join(f"{px(x):.1f},{py(y, top):.1f}" for x, y in series)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                         'stroke-width="2"/>')
            x, y = series[-1]
            parts.append(f'<text x="{px(x) - 4:.1f}" y="{py(y, top) - 6:.1f}" '
                         f'text-anchor="end" fill="{colour}">{html.escape(label)}</text>')
    for x in xs:
        parts.append(f'<text x="{px(x):.1f}" y="{height - pad + 16}" text-anchor="middle">'
                     f"{x:g}</text>")
    parts.append("</svg>")
    return "".join(parts)
