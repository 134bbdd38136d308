"""A simple question a person answers ("What is 3 + 4?"), asked instead of refusing a
web complaint when one internet address sent many in a short time: a school, a
kiosk or a mobile carrier can put many children behind one address, and none of
them may be turned away.

It works without JavaScript and without any third-party service, and keeps no state
on the server: the expected answer travels in the form, in a signed, time-limited
token. The token holds a random nonce and a keyed digest of nonce and answer, never
the answer itself, so it cannot be read out of the page's HTML, and two tokens for the
same question look unrelated. It is a speed bump against floods, not a wall against a
determined program (that one can read the question): a solved token may be replayed
until it expires, which we accept rather than keep per-token state.

A child who says they are in danger is never asked.
"""

import secrets
from dataclasses import dataclass

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SALT = "intake.human_check"
# Long enough to reread and change a story before answering; a late answer only
# brings a new question, and the story stays in the form.
MAX_AGE_SECONDS = 60 * 60


@dataclass(frozen=True)
class HumanCheck:
    question: str
    token: str


def human_check_required(*, in_danger: bool, within_limit: bool) -> bool:
    """Past the per-client submission limit, ask the question; never in danger."""
    return not in_danger and not within_limit


def human_check_new() -> HumanCheck:
    """A fresh question and the token that checks its answer."""
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    nonce = secrets.token_urlsafe(16)
    token = signing.dumps({"n": nonce, "d": _digest(nonce, str(a + b))}, salt=SALT)
    return HumanCheck(question=_("What is %(a)d + %(b)d?") % {"a": a, "b": b}, token=token)


@dataclass(frozen=True)
class HumanCheckState:
    """What the complaint form carries: once passed, the token and its answer ride along
    hidden (another mistake in the form does not bring a new question); otherwise a new
    question, and whether the last answer was wrong."""

    passed: bool
    token: str
    answer: str = ""
    question: str = ""
    wrong_answer: bool = False

    @property
    def message(self) -> str:
        if self.passed:
            return ""
        return str(WRONG if self.wrong_answer else UNANSWERED)


UNANSWERED = gettext_lazy("Please answer the short question, then press Send.")
WRONG = gettext_lazy("That answer was not right. Please answer the new question.")


def human_check_state(*, token: str, answer: str) -> HumanCheckState:
    """The check after a submission: passed, or a new question."""
    if human_check_passes(token=token, answer=answer):
        return HumanCheckState(passed=True, token=token, answer=answer)
    new = human_check_new()
    return HumanCheckState(
        passed=False,
        token=new.token,
        question=new.question,
        wrong_answer=bool((answer or "").strip()),
    )


def human_check_passes(*, token: str, answer: str) -> bool:
    """True when the answer is right for the question the token was made for, and the
    token is ours and not expired."""
    try:
        data = signing.loads(token or "", salt=SALT, max_age=MAX_AGE_SECONDS)
        nonce, digest = str(data["n"]), str(data["d"])
    except (signing.BadSignature, KeyError, TypeError):
        return False
    number = _as_number(answer)
    return number is not None and constant_time_compare(digest, _digest(nonce, number))


def _as_number(answer: str) -> str | None:
    # int() reads digits of any script (Arabic-Indic, Devanagari...) and a leading "+".
    try:
        return str(int((answer or "").strip().replace(" ", "")[:6]))
    except ValueError:
        return None


def _digest(nonce: str, answer: str) -> str:
    return salted_hmac(SALT, f"{nonce}:{answer}", algorithm="sha256").hexdigest()
