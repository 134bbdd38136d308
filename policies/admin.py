from django.contrib import admin, messages

from policies.models import ChildProtectionPolicy, Membership, StaffProfile, Unit
from policies.services import PolicyError, policy_publish


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sector", "default_language", "is_active")
    list_filter = ("sector", "is_active")
    search_fields = ("code", "name")
    inlines = [MembershipInline]


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
