"""Delivery state for administrators: metadata only, never a body or a number."""

from django.contrib import admin

from notifications.models import Notification, OutboundSms


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ("created_at", "kind", "channel", "status", "attempts", "recipient", "case")
    list_filter = ("status", "kind", "channel")
    fields = ("created_at", "kind", "channel", "status", "attempts", "recipient", "case",
              "claimed_at", "sent_at")
    readonly_fields = fields


@admin.register(OutboundSms)
class OutboundSmsAdmin(ReadOnly):
    list_display = ("created_at", "status", "provider_status", "error_code", "attempts", "case")
    list_filter = ("status",)
    fields = ("created_at", "status", "provider_status", "error_code", "attempts", "case",
              "next_attempt_at", "sent_at", "carries_outcome")
    readonly_fields = fields
