"""Delivery state for administrators: metadata only, never a body or a number."""

from django.contrib import admin

from complaints.admin import ReadOnlyAdmin
from notifications.models import Notification, OutboundSms


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "channel", "status", "attempts", "recipient", "case")
    list_filter = ("status", "kind", "channel")
    fields = (
        "created_at",
        "kind",
        "channel",
        "status",
        "attempts",
        "error_code",
        "recipient",
        "case",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
    )
    readonly_fields = fields


@admin.register(OutboundSms)
class OutboundSmsAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "status", "provider_status", "error_code", "attempts", "case")
    list_filter = ("status",)
    fields = (
        "created_at",
        "status",
        "provider_status",
        "error_code",
        "attempts",
        "case",
        "next_attempt_at",
        "sent_at",
        "carries_outcome",
    )
    readonly_fields = fields
