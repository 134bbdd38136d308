"""Twilio webhooks and the development SMS simulator."""

import secrets
import urllib.error
import urllib.parse
import urllib.request
from functools import wraps
from xml.etree import ElementTree

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from intake.media import MAX_ITEMS as MAX_MEDIA_ITEMS
from intake.media import MediaItem, media_items
from intake.sms import sms_receive
from notifications.sms import sms_status_record

# A number as Twilio sends it is at most about 20 characters; "whatsapp:+..." and
# other channel prefixes fit well within this. Anything longer is not a number.
MAX_NUMBER_LENGTH = 64


def twilio_signature_valid(request) -> bool:
    """Checked against the public URL (we sit behind a TLS proxy), never the
    internal one."""
    if not settings.TWILIO_AUTH_TOKEN:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")  # "" not None: the library raises
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(url, request.POST, signature)


def twilio_signed(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not twilio_signature_valid(request):
            return HttpResponseForbidden("Invalid Twilio signature.")
        return view(request, *args, **kwargs)

    # Error reports never carry a child's text or number.
    return csrf_exempt(require_POST(sensitive_post_parameters("Body", "From", "To")(wrapper)))


def twiml(reply: str) -> HttpResponse:
    response = MessagingResponse()
    if reply:
        response.message(reply)
    # The replies are UTF-8 (accents, emoji): say so, rather than leave the client to guess.
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8")


@twilio_signed
def twilio_inbound(request):
    sid = request.POST.get("MessageSid") or request.POST.get("SmsMessageSid") or ""
    sender = request.POST.get("From", "")
    if not sid or not sender or len(sid) > 64:
        return HttpResponseBadRequest("MessageSid and From are required.")
    if len(sender) > MAX_NUMBER_LENGTH or len(request.POST.get("To", "")) > MAX_NUMBER_LENGTH:
        return HttpResponseBadRequest("From and To must be phone numbers.")
    reply = sms_receive(
        message_sid=sid,
        from_number=sender,
        body=request.POST.get("Body", ""),
        to_number=request.POST.get("To", ""),
        media=_media_of(request.POST),
    )
    return twiml(reply)


def _media_of(post) -> list[MediaItem]:
    """The photos and voice messages of an MMS or WhatsApp message (NumMedia,
    MediaUrlN, MediaContentTypeN); fetched later, never during the webhook."""
    count = post.get("NumMedia", "0")
    count = min(int(count), MAX_MEDIA_ITEMS) if count.isdigit() else 0
    return media_items(
        [(post.get(f"MediaUrl{i}", ""), post.get(f"MediaContentType{i}", "")) for i in range(count)]
    )


@twilio_signed
def twilio_status(request):
    sid = request.POST.get("MessageSid", "")
    status = request.POST.get("MessageStatus") or request.POST.get("SmsStatus") or ""
    if not sid or not status:
        return HttpResponseBadRequest("MessageSid and MessageStatus are required.")
    sms_status_record(provider_sid=sid, status=status, error_code=request.POST.get("ErrorCode", ""))
    return HttpResponse(status=204)


# --- Development simulator -----------------------------------------------------------------


def _signed_post(path: str, params: dict) -> str:
    """A real, signed webhook request to this app, as Twilio would send it."""
    url = settings.PUBLIC_BASE_URL + path
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(params).encode(),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - our own URL
        return response.read().decode()


@require_http_methods(["GET", "POST"])
def sms_simulator(request):
    # Development only, not "whenever DEBUG is on": it signs any From with the real
    # auth token, so anywhere else anyone could write into any SMS child's case.
    if settings.RECOURSE_ENV != "development":
        raise Http404()
    # The exchange is shown from this POST alone: no child's text is kept in the session.
    phone = request.POST.get("phone", "").strip()[:MAX_NUMBER_LENGTH] or "+15005550006"
    transcript = {"phone": phone, "lines": []}
    if request.method == "POST":
        text = request.POST.get("body", "")
        params = {
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": "ACsimulator",
            "From": phone,
            # A "whatsapp:" phone writes to the WhatsApp sender, as on a real phone.
            "To": (settings.TWILIO_WHATSAPP_FROM or "whatsapp:+15005550000")
            if phone.startswith("whatsapp:")
            else (settings.SMS_PUBLIC_NUMBER or "+15005550000"),
            "Body": text,
            "NumMedia": "0",
        }
        try:
            xml = _signed_post(reverse("intake:twilio_inbound"), params)
            reply = _reply_text(xml)
        except (urllib.error.URLError, OSError) as exc:
            reply = f"(the webhook could not be reached: {exc})"
        transcript["lines"] = [["child", text], ["service", reply or "(no reply)"]]
    return render(request, "intake/sms_simulator.html", {"transcript": transcript})


def _reply_text(xml: str) -> str:
    root = ElementTree.fromstring(xml)
    return "\n".join((node.text or "") for node in root.iter("Message"))
