"""Small server-rendered SVG charts for the policy editor: no script, no chart library, so a
page reads the same with JavaScript off and a screen reader gets a text summary."""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from moderation.services.replay import LabelHistogram

SVG_NS = "http://www.w3.org/2000/svg"
# Fallback colours (the stylesheet's classes win where it is loaded): the same as
# static/admin-policy.css, so a chart copied out of the page still reads.
COLOURS = {"rejected": "#b91c1c", "approved": "#15803d", "undecided": "#9ca3af"}
LINE_COLOURS = {"approve": "#15803d", "reject": "#b91c1c"}
# Stacking order from the axis up: rejections first, the rarest and the reason for the chart.
STACK = ("rejected", "approved", "undecided")
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 6, 8, 6, 16


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _tick_text(value: float) -> str:
    return {0.0: "0", 1.0: "1"}.get(value, _number(value))


def _describe_thresholds(name: str, pair: tuple[float, float] | None) -> str:
    if pair is None:
        return ""
    approve, reject = pair
    return f" {name}: approve below {approve:.2f}, reject at {reject:.2f}."


def label_histogram_svg(hist: LabelHistogram, *, now: tuple[float, float] | None,
                        proposed: tuple[float, float] | None, enabled: bool = True,
                        width: int = 320, height: int = 120) -> Markup:
    """A histogram of one label's scores, stacked by what moderators decided, with the
    current (dashed) and proposed (solid) approve and reject thresholds."""
    left, right = MARGIN_LEFT, width - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, height - MARGIN_BOTTOM
    plot_width, plot_height = right - left, bottom - top

    def x_at(value: float) -> float:
        return left + min(max(value, 0.0), 1.0) * plot_width

    counts = {kind: getattr(hist, kind) for kind in STACK}
    totals = [sum(column) for column in zip(*counts.values(), strict=True)]
    tallest = max(totals, default=0)
    # A square-root scale: a bin of 4 is half as tall as one of 16, so the few comments at the
    # risky end stay visible next to thousands of harmless ones.
    scale = plot_height / math.sqrt(tallest) if tallest else 0.0
    label = str(hist.label)
    comments = sum(totals)
    summary = (f"{label}: {comments} scored comment{'s' if comments != 1 else ''}, "
               f"{sum(hist.rejected)} rejected and {sum(hist.approved)} approved by moderators."
               + ("" if enabled else " This label is off in the proposed policy.")
               + _describe_thresholds("Now", now) + _describe_thresholds("Proposed", proposed))

    # A label that is off is greyed out, not hidden: its scores still inform the choice.
    greyed = "" if enabled else ' opacity="0.35"'
    parts = [
        f'<svg xmlns="{SVG_NS}" class="label-chart{"" if enabled else " chart-off"}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(summary)}">',
        f"<title>{escape(label)} score distribution</title>",
        "<desc>Bars stack comments moderators rejected, approved and did not decide, per 0.02 "
        "of score; bar height is the square root of the count. Dashed lines are the current "
        "thresholds, solid lines the proposed ones.</desc>",
        f'<g class="chart-plot"{greyed}>',
    ]
    edges = hist.edges
    for index, total in enumerate(totals):
        if not total:
            continue
        x0, x1 = x_at(edges[index]), x_at(edges[index + 1])
        bar_width = max(x1 - x0 - 0.5, 0.5)  # a hairline gap between bins
        tooltip = (f"{_number(edges[index])}–{_number(edges[index + 1])}: "
                   + ", ".join(f"{counts[kind][index]} {kind}" for kind in STACK))
        parts.append(f"<g><title>{escape(tooltip)}</title>")
        # Stack on the scale of the running total, so the whole bar is sqrt(total) tall.
        below = 0
        for kind in STACK:
            count = counts[kind][index]
            if not count:
                continue
            y_low = bottom - math.sqrt(below) * scale
            below += count
            y_high = bottom - math.sqrt(below) * scale
            parts.append(
                f'<rect class="chart-{kind}" fill="{COLOURS[kind]}" x="{x0:.2f}" '
                f'y="{y_high:.2f}" width="{bar_width:.2f}" height="{y_low - y_high:.2f}"/>'
            )
        parts.append("</g>")
    for policy_name, pair in (("now", now), ("proposed", proposed)):
        if pair is None:
            continue
        for kind, value in zip(("approve", "reject"), pair, strict=True):
            x = x_at(float(value))
            dash = ' stroke-dasharray="4 3"' if policy_name == "now" else ' stroke-width="2"'
            parts.append(
                f'<line class="line-{kind} line-{policy_name}" data-threshold="{kind}" '
                f'data-policy="{policy_name}" data-value="{float(value):.2f}" '
                f'stroke="{LINE_COLOURS[kind]}"{dash} x1="{x:.2f}" y1="{top}" x2="{x:.2f}" '
                f'y2="{bottom}"><title>{policy_name}: {kind} at {float(value):.2f}</title>'
                "</line>"
            )
    parts.append("</g>")
    parts.append(f'<line class="axis" stroke="#555" x1="{left}" y1="{bottom}" x2="{right}" '
                 f'y2="{bottom}"/>')
    for tick in TICKS:
        x = x_at(tick)
        anchor = {0.0: "start", 1.0: "end"}.get(tick, "middle")
        parts.append(f'<line class="tick" stroke="#555" x1="{x:.2f}" y1="{bottom}" '
                     f'x2="{x:.2f}" y2="{bottom + 3}"/>')
        parts.append(f'<text class="tick-label" x="{x:.2f}" y="{height - 3}" font-size="9" '
                     f'fill="#444" text-anchor="{anchor}">{_tick_text(tick)}</text>')
    if not enabled:
        parts.append(f'<text class="chart-off-text" x="{(left + right) / 2:.2f}" '
                     f'y="{(top + bottom) / 2 + 5:.2f}" font-size="14" fill="#666" '
                     'text-anchor="middle">off</text>')
    elif not comments:
        parts.append(f'<text class="chart-empty" x="{(left + right) / 2:.2f}" '
                     f'y="{(top + bottom) / 2 + 4:.2f}" font-size="10" fill="#666" '
                     'text-anchor="middle">no scored comments</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
