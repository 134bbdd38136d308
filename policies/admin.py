from django.contrib import admin

from policies.models import ChildProtectionPolicy, Membership, Unit


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

    def get_readonly_fields(self, request, obj=None):
        # A published version is never edited in place.
        if obj and obj.published_at:
            return [f.name for f in self.model._meta.fields]
        return ["published_at"]
