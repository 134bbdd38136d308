"""Digits as a child's phone types them. An Arabic keyboard types ٠١٢٣٤٥٦٧٨٩ (Arabic-Indic)
or ۰۱۲۳۴۵۶۷۸۹ (Eastern Arabic-Indic, Persian and Urdu keyboards); codes, references and
menu answers are compared in ASCII digits. Used where a child types a number: the SMS
keyword and menu answers, unit codes, the follow-up reference and code."""

ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
EASTERN_ARABIC_INDIC = "۰۱۲۳۴۵۶۷۸۹"
_TO_ASCII = str.maketrans(ARABIC_INDIC + EASTERN_ARABIC_INDIC, "0123456789" * 2)


def ascii_digits(text: str) -> str:
    """The text with every Arabic-Indic digit made its ASCII digit; the rest unchanged."""
    return text.translate(_TO_ASCII)
