"""A review table's rows as HTML, in Python: the view across units has thousands of
cells (a row per unit in most tables), where the template language's nested loops
took a second."""

from django import template
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from oversight.selectors import Linked

register = template.Library()


def _cell(value) -> str:
    """As the template language prints a value: localized, then escaped."""
    return conditional_escape(localize(value))


@register.filter
def table_rows(table) -> str:
    """<tr> per row: the first cell a row header, a Linked figure a link to its list."""
    rows = []
    for row in table.rows:
        cells = [f'<th scope="row">{_cell(row[0])}</th>']
        for v in row[1:]:
            if isinstance(v, Linked):
                cells.append(
                    f'<td><a href="{conditional_escape(v.href)}">{_cell(v.value)}</a></td>'
                )
            else:
                cells.append(f"<td>{_cell(v)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return mark_safe("".join(rows))  # every value escaped above
