"""The admin shows case metadata only: no ciphertext field is listed, and nothing here
decrypts. Administration is not a back door into cases."""

from django.contrib import admin

from complaints.models import AuditEvent, Case, CaseEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ("at", "actor", "from_status", "to_status")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("display_reference", "unit", "status", "urgency", "channel", "received_at")
    list_filter = ("status", "urgency", "channel", "unit")
    fields = (
        "reference",
        "unit",
        "policy",
        "status",
        "urgency",
        "category",
        "channel",
        "language",
        "in_danger",
        "about_staff_answer",
        "contact_preference",
        "received_at",
        "acknowledged_at",
        "acknowledge_due_at",
        "assess_due_at",
        "resolve_due_at",
    )
    readonly_fields = fields
    search_fields = ("reference",)
    inlines = [CaseEventInline]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_label", "action", "case_reference")
    list_filter = ("action",)
    fields = ("at", "actor_label", "action", "case_reference", "data", "prev_hash", "hash")
    readonly_fields = fields
    search_fields = ("case_reference", "actor_label")
