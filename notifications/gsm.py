"""SMS encoding arithmetic. A reply that stays in the GSM-7 alphabet costs a child (or
the service) a third as much as one that forces UCS-2, so replies are folded into
GSM-7 the way Twilio's "smart encoding" does: é stays, á becomes a, ’ becomes '."""

import unicodedata

GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "^{}\\[~]|€\f"  # each costs two septets
SMART = {
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
    "…": "...",
    "«": '"',
    "»": '"',
    "\u00a0": " ",
    "\u202f": " ",
    "ç": "c",
    "œ": "oe",
    "Œ": "OE",
}

GSM_SEGMENT, GSM_CONCAT = 160, 153
UCS2_SEGMENT, UCS2_CONCAT = 70, 67


def is_gsm(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def to_gsm(text: str) -> str:
    """Fold characters outside GSM-7 to their nearest GSM-7 form where one exists."""
    out = []
    for ch in text:
        if ch in GSM_BASIC or ch in GSM_EXTENSION:
            out.append(ch)
        elif ch in SMART:
            out.append(SMART[ch])
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            out.append(base if base and is_gsm(base) else ch)
    return "".join(out)


def segments(text: str) -> int:
    length = length_units(text)
    if is_gsm(text):
        single, concat = GSM_SEGMENT, GSM_CONCAT
    else:
        single, concat = UCS2_SEGMENT, UCS2_CONCAT
    if length <= single:
        return 1
    return -(-length // concat)


def length_units(text: str) -> int:
    """What the text takes in its encoding: septets in GSM-7 (an extension character
    takes two), UTF-16 code units in UCS-2."""
    if is_gsm(text):
        return sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def browser_tables() -> dict:
    """The alphabet and sizes above, for the staff reply counter (static/recourse/
    sms-counter.js) to count as this module does without a copy of its own."""
    return {
        "basic": GSM_BASIC,
        "extension": GSM_EXTENSION,
        "smart": SMART,
        "gsm": [GSM_SEGMENT, GSM_CONCAT],
        "ucs2": [UCS2_SEGMENT, UCS2_CONCAT],
    }
