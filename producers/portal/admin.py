from django.contrib import admin

from producers.portal.models import AuditEntry, Invitation, Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "cell")
    list_filter = ("role", "cell")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("cell", "role", "created_by", "created_at", "expires_at", "used_by", "used_at")
    exclude = ("code_hash",)
    readonly_fields = ("cell", "role", "created_by", "created_at", "used_by", "used_at")


@admin.register(AuditEntry)
class AuditAdmin(admin.ModelAdmin):
    list_display = ("at", "username", "action", "target", "ip")
    list_filter = ("action",)

    def has_change_permission(self, request, obj=None):      # the log is appended to, never edited
        return False

    def has_delete_permission(self, request, obj=None):
        return False
