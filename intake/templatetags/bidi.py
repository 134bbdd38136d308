"""Left-to-right pieces inside right-to-left text: a reference (K7QM-4TPX), a code, a
phone number or a unit code keeps its order in an Arabic sentence only when isolated.

    {{ case.display_reference|ltr }}   reporter pages and printed sheets (HTML)
    {{ case.reporter_reference|isolate }}   SMS texts (Unicode isolate marks, rtl only)
"""

from django import template
from django.utils import translation
from django.utils.html import format_html

from config.languages import isolate_ltr

register = template.Library()


@register.filter
def ltr(value):
    """The value in its own left-to-right island, whatever the page's direction."""
    if value is None or value == "":
        return ""
    return format_html('<bdi dir="ltr">{}</bdi>', value)


@register.filter
def isolate(value):
    """For SMS: the value between LRI and PDI when the text being written is right to
    left; unchanged otherwise (the marks would force UCS-2 on a GSM-7 text)."""
    return isolate_ltr(str(value), translation.get_language())
