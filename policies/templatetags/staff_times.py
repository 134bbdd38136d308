from django import template

from policies.staff_locale import staff_time as format_staff_time

register = template.Library()


@register.filter
def staff_time(value) -> str:
    """{{ case.acknowledge_due_at|staff_time }}: "3 December 2026, 09:00 (Africa/Dakar)"."""
    return format_staff_time(value)
