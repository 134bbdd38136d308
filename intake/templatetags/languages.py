"""The language switch on reporter pages: the languages a unit offers (Unit.languages),
each named in itself."""

from django import template

from intake.language import offered_languages as offered

register = template.Library()


@register.simple_tag
def offered_languages(unit=None):
    """[(code, name in that language)]: the unit's languages, or every language (a page
    with no unit passes nothing, which the template reads as "")."""
    return offered(unit or None)
