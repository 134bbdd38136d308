"""The review tables' rows, printed in Python, read as the template language printed them:
values localized (a French decimal comma) and escaped, figures linked to their list."""

from django.template import engines
from django.utils import translation

from oversight.selectors import Linked, Table
from oversight.templatetags.review_tables import table_rows

# The template loop the filter replaced.
LOOP = (
    "{% for row in table.rows %}<tr>{% for v in row %}{% if forloop.first %}"
    '<th scope="row">{{ v }}</th>{% elif v.href %}<td><a href="{{ v.href }}">{{ v.value }}'
    "</a></td>{% else %}<td>{{ v }}</td>{% endif %}{% endfor %}</tr>{% endfor %}"
)


def test_rows_print_as_the_template_loop_did():
    table = Table(
        "t",
        "T",
        ["Unit", "a", "b", "c", "d"],
        [
            ["DKR1", 12, "<5", 3.5, Linked(7, "/staff/compliance/DKR1/overdue/?a=1&b=2")],
            ["<b>X</b>", "—", "50% (1 of 2)", None, 0],
        ],
    )
    loop = engines["django"].from_string(LOOP)
    for language in ("en", "fr", "ar"):
        with translation.override(language):
            assert table_rows(table) == loop.render({"table": table})
    with translation.override("fr"):
        assert "<td>3,5</td>" in table_rows(table)
    assert "&lt;b&gt;X&lt;/b&gt;" in table_rows(table) and "?a=1&amp;b=2" in table_rows(table)
