from django import forms
from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator

from baseline.models import InboundMessage, Submission

PAGE = "<!doctype html><title>Form</title><form method=post>{}<button>Send</button></form>"


class SubmissionForm(forms.ModelForm):
    class Meta:
        model = Submission
        fields = ["name", "email", "message"]


@csrf_exempt
def form(request):
    """GET renders the 3-field form; POST validates it and inserts a row."""
    if request.method == "POST":
        bound = SubmissionForm(request.POST)
        if bound.is_valid():
            bound.save()
            return HttpResponse("<!doctype html><p>Thank you.</p>")
        return HttpResponseBadRequest(PAGE.format(bound.as_p()))
    return HttpResponse(PAGE.format(SubmissionForm().as_p()))


@csrf_exempt
def webhook(request):
    """Validate the Twilio signature, insert a row, answer TwiML."""
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    url = settings.PUBLIC_BASE_URL + request.path
    if not validator.validate(
        url, request.POST.dict(), request.headers.get("X-Twilio-Signature", "")
    ):
        return HttpResponseForbidden()
    InboundMessage.objects.get_or_create(
        sid=request.POST["MessageSid"],
        defaults={"sender": request.POST.get("From", ""), "body": request.POST.get("Body", "")},
    )
    return HttpResponse(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Thank you.</Message></Response>',
        content_type="text/xml",
    )
