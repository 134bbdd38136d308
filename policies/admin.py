from django import forms
from django.conf import settings
from django.contrib import admin, messages

from complaints.admin import ReadOnlyAdmin
from policies.models import (
    ChildProtectionPolicy,
    Membership,
    PosterPrint,
    StaffProfile,
    Unit,
    WhatsAppTemplate,
)
from policies.services import PolicyError, membership_recorded, policy_publish
from vault.keys import focal_point_removed, recovery_key_create


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


def _revoke_removed_focal_points(formset):
    """Whoever's membership was removed or changed keeps copies only of the cases they
    may still read (vault.keys.focal_point_removed decides)."""
    for membership in formset.deleted_objects + [obj for obj, _changed in formset.changed_objects]:
        focal_point_removed(membership=membership)


class UnitForm(forms.ModelForm):
    """Unit.languages as boxes to tick, from the languages the service has now."""

    languages = forms.TypedMultipleChoiceField(
        choices=lambda: settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The languages children can choose on this unit's pages and by SMS. "
        "None ticked: all of them.",
    )

    class Meta:
        model = Unit
        fields = (
            "code",
            "name",
            "sector",
            "default_language",
            "languages",
            "time_zone",
            "is_active",
        )


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    form = UnitForm
    list_display = ("code", "name", "sector", "default_language", "is_active")
    list_filter = ("sector", "is_active")
    search_fields = ("code", "name")
    inlines = [MembershipInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            private = recovery_key_create(unit=obj)
            self.message_user(
                request,
                (
                    f"Recovery key of {obj.code}, shown this once: {private} . Print it and keep it "
                    "in a safe; it opens every case of the unit when nobody else can."
                ),
                messages.WARNING,
            )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Membership:
            for membership in formset.new_objects:
                membership_recorded(membership=membership, actor=request.user, change="added")
            for membership, _fields in formset.changed_objects:
                membership_recorded(membership=membership, actor=request.user, change="changed")
            for membership in formset.deleted_objects:
                membership_recorded(membership=membership, actor=request.user, change="removed")
            _revoke_removed_focal_points(formset)


@admin.register(ChildProtectionPolicy)
class ChildProtectionPolicyAdmin(admin.ModelAdmin):
    list_display = ("unit", "version", "published_at")
    list_filter = ("unit",)
    actions = ["publish"]

    @admin.action(description="Publish the selected drafts")
    def publish(self, request, queryset):
        for policy in queryset.filter(published_at__isnull=True):
            try:
                policy_publish(policy=policy, actor=request.user)
            except PolicyError as error:
                self.message_user(request, f"{policy}: not published. {error}", messages.ERROR)
            else:
                self.message_user(request, f"{policy}: published.", messages.SUCCESS)

    def get_readonly_fields(self, request, obj=None):
        # A published version is never edited in place.
        if obj and obj.published_at:
            return [f.name for f in self.model._meta.fields]
        return ["published_at"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("user",)
    autocomplete_fields = ("user",)


@admin.register(PosterPrint)
class PosterPrintAdmin(ReadOnlyAdmin):
    """A record of what was printed: managers make them from the policy page."""

    list_display = ("unit", "kind", "policy", "printed_by", "printed_at")
    list_filter = ("kind", "unit")


@admin.register(WhatsAppTemplate)
class WhatsAppTemplateAdmin(admin.ModelAdmin):
    """The Content SIDs of units' approved WhatsApp templates, one per unit and
    language: what is sent outside WhatsApp's 24-hour window (notifications.sms)."""

    list_display = ("unit", "language", "content_sid")
    list_filter = ("language",)
    search_fields = ("unit__code", "unit__name")
    autocomplete_fields = ("unit",)
