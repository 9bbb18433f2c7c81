"""`python manage.py verify_audit`: walk the audit trail's hash chain; name the first broken link."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.audit import verify_chain

PROBLEMS = {
    "content": gettext_lazy("its content does not match its hash (edited)"),
    "link": gettext_lazy("it does not follow the event before it (an event was deleted, inserted or edited)"),
    "unsealed": gettext_lazy("its hash was removed"),
}


class Command(BaseCommand):
    help = "Check that no audit event was edited, inserted or deleted (exit status 1 at the first broken link)."

    def handle(self, *args, **options):
        checked, broken, problem = verify_chain()
        if broken is not None:
            raise CommandError(
                _("Audit trail broken at event #%(id)s (%(when)s): %(problem)s. %(count)s events before it are intact.")
                % {
                    "id": broken.pk,
                    "when": timezone.localtime(broken.created_at).isoformat(timespec="seconds"),
                    "problem": PROBLEMS[problem],
                    "count": checked,
                }
            )
        self.stdout.write(_("Audit trail intact: %(count)s events checked.") % {"count": checked})
