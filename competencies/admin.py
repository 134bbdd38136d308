from django.contrib import admin

from competencies.models import StaffMember


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ("name", "unit", "role_title", "is_active", "user")
    list_filter = ("unit", "is_active")
    search_fields = ("name", "role_title")
    autocomplete_fields = ("user",)
