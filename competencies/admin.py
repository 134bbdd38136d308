from django.contrib import admin

from competencies.models import Competency, CompetencyFramework, StaffMember


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "role_title", "is_active", "user")
    list_filter = ("unit", "is_active")
    search_fields = ("name", "role_title")
    # Linked on the unit's roster page only: that is audited and keeps the account away
    # from cases already about the person (competencies.services.staff_member_link).
    readonly_fields = ("user",)


class CompetencyInline(admin.TabularInline):
    model = Competency
    extra = 0
    fields = ("number", "title", "is_active")
    can_delete = False  # retire instead: history keeps pointing at it


@admin.register(CompetencyFramework)
class CompetencyFrameworkAdmin(admin.ModelAdmin):
    """Adapt a framework per country: rename, add or retire competencies. Assignments
    keep the title they were made under."""

    list_display = ("name", "sector", "adopted")
    inlines = [CompetencyInline]

    def has_delete_permission(self, request, obj=None):
        return False
