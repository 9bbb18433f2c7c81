"""Wagtail's user admin, scoped like the Django admin: a region administrator below the province lists,
opens, edits and deletes only the people holding a staff role in their region (`portal.scoping`)."""

from django.contrib.auth import get_user_model
from django.http import Http404

from wagtail.users.views import users

from .scoping import scope_users


class ScopedObjectMixin:
    def get_object(self, queryset=None):
        obj = super().get_object()
        if not scope_users(self.request.user, get_user_model()._default_manager.filter(pk=obj.pk)).exists():
            raise Http404
        return obj


class IndexView(users.IndexView):
    def get_base_queryset(self):
        return scope_users(self.request.user, super().get_base_queryset())


class EditView(ScopedObjectMixin, users.EditView):
    pass


class DeleteView(ScopedObjectMixin, users.DeleteView):
    pass


class HistoryView(ScopedObjectMixin, users.HistoryView):
    pass


class ScopedUserViewSet(users.UserViewSet):
    index_view_class = IndexView
    edit_view_class = EditView
    delete_view_class = DeleteView
    history_view_class = HistoryView
