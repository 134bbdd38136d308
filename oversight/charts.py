"""Server-rendered SVG charts: readable without JavaScript, each with a title and a
description for screen readers, and the table beside it as the text alternative."""

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from oversight.selectors import Cell

BAR_COLOUR = "#1d3f8f"
# Trend series: dark enough on white for 3:1 (WCAG non-text contrast), told apart by
# the legend's order and the table too, never by colour alone.
SERIES = [
    ("received", "#1d3f8f"),
    ("on_time", "#00703c"),
    ("overdue", "#b10e1e"),
    ("escalated", "#6f3c97"),
]


def deadline_bars(rows: list[tuple[str, int, int]], *, cross_unit: bool) -> str:
    """Share of cases acknowledged in time, one bar per urgency."""
    width, bar_height, gap, label_width = 520, 28, 14, 110
    height = len(rows) * (bar_height + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="ack-chart-title ack-chart-desc" class="chart">',
        f'<title id="ack-chart-title">{escape(_("Cases acknowledged within the policy deadline"))}</title>',
    ]
    described = []
    cell = Cell(cross_unit)
    for i, (urgency, met, eligible) in enumerate(rows):
        y = gap + i * (bar_height + gap)
        hidden = cell.share_hidden(met, eligible)
        share = 0 if hidden else met / eligible
        if not eligible:
            text = _("no data")
        elif hidden:
            text = _("hidden: small numbers")
        else:
            text = f"{round(100 * share)}%"
        described.append(f"{urgency}: {text}" + ("" if hidden else f" ({met}/{eligible})"))
        bar = int((width - label_width - 60) * share)
        parts.append(f'<text x="0" y="{y + 19}" font-size="14">{escape(urgency)}</text>')
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{width - label_width - 60}" '
            f'height="{bar_height}" fill="#e6e6e6"/>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y}" width="{bar}" height="{bar_height}" '
            f'fill="{BAR_COLOUR}"/>'
        )
        parts.append(f'<text x="{width - 55}" y="{y + 19}" font-size="14">{escape(text)}</text>')
    parts.insert(2, f'<desc id="ack-chart-desc">{escape("; ".join(described))}</desc>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def heat_map(table) -> str:
    """Breached competencies: one row per competency, one column per unit."""
    if not table.rows:
        return ""
    units = table.columns[1:]
    cell, label_width, header = 46, 330, 40
    width = label_width + cell * len(units)
    height = header + cell * len(table.rows)
    numbers = [v for row in table.rows for v in row[1:] if isinstance(v, int)]
    top = max(numbers, default=1) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="heat-title heat-desc" class="chart">',
        f'<title id="heat-title">{escape(_("Breached competencies by unit"))}</title>',
        f'<desc id="heat-desc">{escape(_("Darker cells mean more breaches; the table below gives every number."))}</desc>',
    ]
    for j, unit in enumerate(units):
        parts.append(
            f'<text x="{label_width + j * cell + 6}" y="26" font-size="13">{escape(unit)}</text>'
        )
    for i, row in enumerate(table.rows):
        y = header + i * cell
        parts.append(f'<text x="0" y="{y + 28}" font-size="12">{escape(str(row[0])[:48])}</text>')
        for j, value in enumerate(row[1:]):
            strength = (value / top) if isinstance(value, int) else 0.25
            shade = int(235 - 180 * strength)
            fill = f"rgb({shade},{shade + 5 if shade < 250 else 250},250)"
            text_colour = "#fff" if strength > 0.6 else "#0b0c0c"
            x = label_width + j * cell
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}"/>'
            )
            parts.append(
                f'<text x="{x + 10}" y="{y + 28}" font-size="13" fill="{text_colour}">'
                f"{escape(str(value))}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def trend_bars(rows, *, labels: dict[str, str], chart_id: str = "trend") -> str:
    """Twelve months side by side, four bars a month (received, acknowledged in time,
    overdue, escalated). A hidden small count ("<5") draws no bar; the table beside
    the chart (and the description) give every figure."""
    width, height, left, top, bottom = 720, 240, 36, 34, 26
    plot_height = height - top - bottom
    slot = (width - left) / max(len(rows), 1)
    bar = (slot - 8) / len(SERIES)
    values = [getattr(r, key) for r in rows for key, _colour in SERIES]
    highest = max((v for v in values if isinstance(v, int)), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart trend-chart">',
        f'<title id="{chart_id}-title">{escape(_("Cases by month of receipt"))}</title>',
        f'<desc id="{chart_id}-desc">'
        + escape(
            "; ".join(
                f"{r.month.key}: "
                + ", ".join(f"{labels[key]} {getattr(r, key)}" for key, _c in SERIES)
                for r in rows
            )
        )
        + "</desc>",
    ]
    # Legend across the top.
    x = left
    for key, colour in SERIES:
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="15" font-size="12">{escape(labels[key])}</text>')
        x += 18 + 7 * len(labels[key])
    baseline = top + plot_height
    parts.append(f'<text x="0" y="{top + 10}" font-size="11">{highest}</text>')
    parts.append(f'<text x="0" y="{baseline}" font-size="11">0</text>')
    parts.append(
        f'<line x1="{left}" y1="{baseline}" x2="{width}" y2="{baseline}" stroke="#505a5f"/>'
    )
    for i, row in enumerate(rows):
        x0 = left + i * slot + 4
        for j, (key, colour) in enumerate(SERIES):
            value = getattr(row, key)
            h = round(plot_height * value / highest, 1) if isinstance(value, int) else 0
            parts.append(
                f'<rect x="{round(x0 + j * bar, 1)}" y="{baseline - h}" width="{round(bar - 1, 1)}" '
                f'height="{h}" fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{round(x0, 1)}" y="{height - 8}" font-size="11">'
            f"{escape(row.month.first_day.strftime('%m/%y'))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
