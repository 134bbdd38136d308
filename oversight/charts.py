"""Server-rendered SVG charts: readable without JavaScript, each with a title and a
description for screen readers, and the table beside it as the text alternative."""

from django.utils.html import escape
from django.utils.safestring import mark_safe

BAR_COLOUR = "#1d3f8f"


def deadline_bars(rows: list[tuple[str, int, int]], *, cross_unit: bool) -> str:
    """Share of cases acknowledged in time, one bar per urgency."""
    width, bar_height, gap, label_width = 520, 28, 14, 110
    height = len(rows) * (bar_height + gap) + gap
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="ack-chart-title ack-chart-desc" class="chart">',
        '<title id="ack-chart-title">Cases acknowledged within the policy deadline</title>',
    ]
    described = []
    for i, (urgency, met, eligible) in enumerate(rows):
        y = gap + i * (bar_height + gap)
        hidden = not eligible or (cross_unit and (0 < met < 5 or 0 < eligible - met < 5))
        share = 0 if hidden else met / eligible
        text = "no data" if not eligible else ("hidden: small numbers" if hidden else f"{round(100 * share)}%")
        described.append(f"{urgency}: {text}")
        bar = int((width - label_width - 60) * share)
        parts.append(f'<text x="0" y="{y + 19}" font-size="14">{escape(urgency)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{width - label_width - 60}" '
                     f'height="{bar_height}" fill="#e6e6e6"/>')
        parts.append(f'<rect x="{label_width}" y="{y}" width="{bar}" height="{bar_height}" '
                     f'fill="{BAR_COLOUR}"/>')
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
        '<title id="heat-title">Breached competencies by unit</title>',
        '<desc id="heat-desc">Darker cells mean more breaches; the table below gives every number.</desc>',
    ]
    for j, unit in enumerate(units):
        parts.append(f'<text x="{label_width + j * cell + 6}" y="26" font-size="13">{escape(unit)}</text>')
    for i, row in enumerate(table.rows):
        y = header + i * cell
        parts.append(f'<text x="0" y="{y + 28}" font-size="12">{escape(str(row[0])[:48])}</text>')
        for j, value in enumerate(row[1:]):
            strength = (value / top) if isinstance(value, int) else 0.25
            shade = int(235 - 180 * strength)
            fill = f"rgb({shade},{shade + 5 if shade < 250 else 250},250)"
            text_colour = "#fff" if strength > 0.6 else "#0b0c0c"
            x = label_width + j * cell
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}"/>')
            parts.append(f'<text x="{x + 10}" y="{y + 28}" font-size="13" fill="{text_colour}">'
                         f'{escape(str(value))}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
