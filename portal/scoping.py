"""The one entry point for "which rows may this person see".

Every query for personal data goes through `scope_queryset`; views use `ScopedViewMixin` (class
views) or `scoped_view` (function views), which also mark the response `Cache-Control: no-store`
so that shared village computers and proxies keep no copy.

A staff role covers its region and everything under it; region codes are hierarchical, so "under"
is a prefix match on the 12-digit code: one indexed query, no tree walking.
"""

from collections.abc import Iterable
from functools import wraps

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.translation import gettext_lazy as _

from .models import NARROW_ROLES, READ_ONLY_ROLES, Region, RoleKind, StaffRole, User

NO_ROLE = _("Your account holds no staff role for this page. Ask your region administrator.")
READ_ONLY = _("Your role may only read; it cannot change records.")


def staff_roles(user) -> list[StaffRole]:
    """The user's roles, read once per request and kept on the user object."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_staff_roles_cache", None)
    if cached is None:
        cached = list(StaffRole.objects.filter(user=user).select_related("region"))
        user._staff_roles_cache = cached
    return cached


def has_role(user, *roles: str) -> bool:
    held = {r.role for r in staff_roles(user)}
    # Asked for no role in particular: any role but a narrow one (a receiving department opens only its pages).
    return bool(held & set(roles)) if roles else bool(held - NARROW_ROLES)


def is_staff_user(user) -> bool:
    """Anyone who works with personal data: a role holder or an admin-site user."""
    return bool(getattr(user, "is_authenticated", False) and (user.is_staff or user.is_superuser or staff_roles(user)))


def scope_prefixes(user, roles: Iterable[str] | None = None) -> list[str] | None:
    """Code prefixes the user may see; None means everything (superuser), [] means nothing."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    wanted = set(roles) if roles else None
    prefixes = sorted(
        {r.prefix for r in staff_roles(user) if (r.role not in NARROW_ROLES if wanted is None else r.role in wanted)}
    )
    # drop prefixes already covered by a shorter one
    return [p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)]


def scope_queryset(user, queryset: QuerySet, *, region_field: str = "village", roles: Iterable[str] | None = None):
    """Filter `queryset` to rows whose region (`region_field`, a path to a Region FK) is in the user's scope."""
    prefixes = scope_prefixes(user, roles)
    if prefixes is None:
        return queryset
    if not prefixes:
        return queryset.none()
    # A prefix of the fixed-width numeric code is a range (640422100 → 640422100000…640422100999): unlike
    # LIKE 'prefix%', a range uses the index on every database (SQLite's LIKE is case-insensitive and cannot).
    lookup = "code__range" if region_field in ("", "self") else f"{region_field}__code__range"
    condition = Q()
    for prefix in prefixes:
        condition |= Q(**{lookup: prefix_range(prefix)})
    return queryset.filter(condition)


def prefix_range(prefix: str) -> tuple[str, str]:
    """The codes under a prefix as a range (indexed on every database, unlike LIKE 'prefix%' on SQLite)."""
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


def scope_regions(user, roles: Iterable[str] | None = None) -> QuerySet:
    return scope_queryset(user, Region.objects.all(), region_field="self", roles=roles)


def in_scope(user, region: Region | str | None, roles: Iterable[str] | None = None) -> bool:
    if region is None:
        return False
    code = region if isinstance(region, str) else region.code
    prefixes = scope_prefixes(user, roles)
    return prefixes is None or any(code.startswith(p) for p in prefixes)


def can_write(user) -> bool:
    """True if some role other than a read-only one is held (or superuser)."""
    if getattr(user, "is_superuser", False):
        return True
    return any(r.role not in READ_ONLY_ROLES and r.role not in NARROW_ROLES for r in staff_roles(user))


def no_store(response):
    """Mark a response with personal data: no shared or browser cache may keep it."""
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    return response


class ScopedViewMixin(LoginRequiredMixin):
    """For views over personal data: a staff role is required, rows are scoped, nothing is cached.

    `allowed_roles`: the roles that may open the view (empty: any staff role).
    `scope_field`: path from the model to its Region FK.
    `write_view`: refuse read-only roles.
    """

    allowed_roles: tuple[str, ...] = ()
    scope_field = "village"
    write_view = False

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        user = request.user
        if not user.is_superuser:
            if not has_role(user, *self.allowed_roles):
                raise PermissionDenied(NO_ROLE)
            if self.write_view and not can_write(user):
                raise PermissionDenied(READ_ONLY)
        return no_store(super().dispatch(request, *args, **kwargs))

    def scope(self, queryset: QuerySet) -> QuerySet:
        return scope_queryset(
            self.request.user, queryset, region_field=self.scope_field, roles=self.allowed_roles or None
        )

    def get_queryset(self):
        return self.scope(super().get_queryset())


def scoped_view(*roles: str, write: bool = False):
    """Function-view twin of ScopedViewMixin; the view scopes its queries with scope_queryset."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            from django.contrib.auth.views import redirect_to_login

            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user.is_superuser:
                if not has_role(user, *roles):
                    raise PermissionDenied(NO_ROLE)
                if write and not can_write(user):
                    raise PermissionDenied(READ_ONLY)
            return no_store(view(request, *args, **kwargs))

        return wrapper

    return decorator


def _admin_prefixes(user) -> list[str] | None:
    """A region administrator's prefixes; None for everyone (superuser, or an administrator of the province)."""
    prefixes = scope_prefixes(user, [RoleKind.REGION_ADMIN])
    if prefixes is None or any(len(p) <= 2 for p in prefixes):
        return None
    return prefixes


def scope_users(user, queryset: QuerySet) -> QuerySet:
    """People a region administrator may see in the admin sites: those holding a staff role inside the
    administrator's region. A province-level administrator (and a superuser) sees everyone; nobody else
    sees anyone."""
    prefixes = _admin_prefixes(user)
    if prefixes is None:
        return queryset
    if not prefixes:
        return queryset.none()
    roles = scope_queryset(user, StaffRole.objects.all(), region_field="region", roles=[RoleKind.REGION_ADMIN])
    return queryset.filter(pk__in=roles.values("user_id"))


def scope_audit_events(user, queryset: QuerySet) -> QuerySet:
    """Audit events a region administrator may read: those written by people `scope_users` lets them see."""

    if _admin_prefixes(user) is None:
        return queryset
    return queryset.filter(actor__in=scope_users(user, User.objects.all()).values("pk"))


# Every role that opens the area's pages: all but the narrow ones (a receiving department sees its referrals only).
ALL_ROLES = tuple(role for role in RoleKind.values if role not in NARROW_ROLES)
