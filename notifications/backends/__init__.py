"""Outbound SMS providers behind one interface, chosen by SMS_BACKEND (a dotted path),
like Django's email backends."""

from django.conf import settings
from django.utils.module_loading import import_string

from notifications.backends.base import PermanentSendError, SmsBackend, TransientSendError

__all__ = ["PermanentSendError", "SmsBackend", "TransientSendError", "get_sms_backend"]


def get_sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()
