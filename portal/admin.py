from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import roles
from .models import AuditEvent, Region, RoleKind, SmsMessage, StaffRole, User
from .phone import clean_phone
from .scoping import scope_audit_events, scope_queryset, scope_users


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["phone"]
    list_display = ["phone", "real_name", "is_active", "is_staff", "date_joined"]
    search_fields = ["phone", "real_name"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        (_("Personal information"), {"fields": ["real_name", "email", "phone_verified"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["phone", "real_name", "password1", "password2"]})]

    def get_queryset(self, request):
        return scope_users(request.user, super().get_queryset(request))

    def get_search_results(self, request, queryset, search_term):
        """The staff-role form's user picker lists people in the administrator's region; someone new to
        it (a volunteer becoming a liaison) is found by their full mobile number only, never by browsing."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if request.path.endswith("/autocomplete/"):
            try:
                phone = clean_phone(search_term)
            except ValidationError:
                phone = None
            if phone:
                queryset = queryset | User.objects.filter(phone=phone, is_active=True)
        return queryset, may_have_duplicates


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffRoleForm(forms.ModelForm):
    class Meta:
        model = StaffRole
        fields = ["user", "role", "region"]

    def __init__(self, *args, assigner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.assigner = assigner
        if assigner is not None and "region" in self.fields:
            self.fields["region"].queryset = scope_queryset(
                assigner, Region.objects.all(), region_field="self", roles=[RoleKind.REGION_ADMIN]
            )

    def clean(self):
        data = super().clean()
        if self.assigner is not None and data.get("role") and data.get("region"):
            try:
                roles.staffrole_validate(assigner=self.assigner, role=data["role"], region=data["region"])
            except ValidationError as exc:
                self.add_error("region", exc)
        return data


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    form = StaffRoleForm
    list_display = ["user", "role", "region", "granted_by", "granted_at"]
    list_filter = ["role"]
    search_fields = ["user__phone", "user__real_name", "region__name", "region__code"]
    list_select_related = ["user", "region", "granted_by"]
    autocomplete_fields = ["user", "region"]

    def get_queryset(self, request):
        return scope_queryset(
            request.user, super().get_queryset(request), region_field="region", roles=[RoleKind.REGION_ADMIN]
        )

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        assigner = request.user

        class BoundForm(form_class):
            def __init__(self, *args, **kw):
                kw["assigner"] = assigner
                super().__init__(*args, **kw)

        return BoundForm

    def has_change_permission(self, request, obj=None):
        # A role is granted or revoked, never edited in place: the trail stays readable.
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        granted = roles.staffrole_grant(
            assigner=request.user, user=obj.user, role=obj.role, region=obj.region, request=request
        )
        obj.pk = granted.pk

    def delete_model(self, request, obj):
        roles.staffrole_revoke(assigner=request.user, staff_role=obj, request=request)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            roles.staffrole_revoke(assigner=request.user, staff_role=obj, request=request)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_repr", "ip_address"]
    list_filter = ["action", "object_type"]
    search_fields = ["object_repr", "actor__phone", "actor__real_name", "object_id"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return scope_audit_events(request.user, super().get_queryset(request))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    """Delivery of text messages in the admin's region: masked numbers, never the text."""

    list_display = ["created_at", "phone_masked", "template", "status", "attempts", "sent_at", "provider_answer"]
    list_filter = ["status", "template"]
    fields = list_display + ["region", "next_attempt_at"]
    readonly_fields = fields
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request), region_field="region")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
