"""Long exports off the request: over EXPORT_QUEUE_THRESHOLD rows, `portal.tables.audited_export` saves an
`ExportJob` (the list's path and query, the user) and a worker makes the file.

The worker does not rebuild the rows itself: it calls the same URL as the same user (`_replay`), so the
list's own scope checks, filters, sealed searches and columns decide what goes into the file, exactly as if
it had been made in the request. A user who has lost the right to the list meanwhile gets a failed job, not
the rows. The audit event is written when the export is asked for (with its reason), not again here.

Running a job twice (a worker killed mid-way and the task requeued) makes the same file again: no double
effect. Files are kept EXPORT_KEEP_DAYS days, then `prune_exports` deletes them (the job's row stays, so
its page can say so).
"""

import datetime
import logging

from django_tasks import task

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.http import FileResponse, Http404, HttpRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .models import ExportJob, ExportStatus

logger = logging.getLogger("portal.exports")

NOT_ALLOWED = _("The list could not be exported for you any more (your role or area may have changed).")
EXPIRED = _("This export has been deleted after %(days)s days. Ask for it again from the list.")
WORKER_ATTR = "made_by_export_worker"


def queue_export(request, *, label: str, export_format: str, rows: int) -> ExportJob:
    """Save the job and enqueue it; the task's row commits with the job's (ATOMIC_REQUESTS)."""
    query = request.GET.copy()
    query.pop("reason", None)
    job = ExportJob.objects.create(
        user=request.user,
        path=request.path,
        query=query.urlencode(),
        language=translation.get_language() or settings.LANGUAGE_CODE,
        label=label[:200],
        export_format=export_format,
        rows=rows,
    )
    run_export.enqueue(job.pk)
    return job


def is_worker_request(request) -> bool:
    return getattr(request, WORKER_ATTR, False)


def _replay(job: ExportJob):
    """Call the list's view as the job's user, marked so that audited_export answers with the file."""
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = job.path
    request.GET = QueryDict(job.query)
    request.META = {"SERVER_NAME": "export-worker", "SERVER_PORT": "443", "REMOTE_ADDR": "", "HTTP_HOST": ""}
    request.user = job.user
    request.session = SessionBase()
    request.LANGUAGE_CODE = job.language
    setattr(request, WORKER_ATTR, True)
    match = resolve(job.path)
    with translation.override(job.language):
        return match.func(request, *match.args, **match.kwargs)


@task()
def run_export(job_id: int) -> str:
    claimed = ExportJob.objects.filter(pk=job_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).update(
        status=ExportStatus.RUNNING
    )
    if not claimed:
        return "already finished"
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    try:
        response = _replay(job)
    except (Resolver404, Http404, PermissionDenied) as exc:
        logger.warning("export %s refused: %s", job_id, type(exc).__name__)
        response = None
    if response is None or response.status_code != 200 or "attachment" not in response.get("Content-Disposition", ""):
        job.status, job.error, job.finished_at = ExportStatus.FAILED, str(NOT_ALLOWED), timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        return "failed"
    name = f"{job.label}-{timezone.localdate():%Y%m%d}-{job.pk}.{job.export_format}"
    if job.file:
        job.file.delete(save=False)  # a re-run replaces its own file
    job.file.save(name, ContentFile(response.content), save=False)
    job.status, job.finished_at = ExportStatus.DONE, timezone.now()
    job.save(update_fields=["file", "status", "finished_at"])
    return job.file.name


def _expired(job: ExportJob) -> bool:
    return job.created_at < timezone.now() - datetime.timedelta(days=settings.EXPORT_KEEP_DAYS)


@login_required
def job_page(request, pk: int):
    """Progress without JavaScript: the page refreshes itself until the file is ready."""
    job = get_object_or_404(ExportJob, pk=pk, user=request.user)
    waiting = job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)
    return render(
        request,
        "portal/export_job.html",
        {
            "job": job,
            "waiting": waiting,
            "expired": _expired(job) or (job.status == ExportStatus.DONE and not job.file),
            "expired_message": EXPIRED % {"days": settings.EXPORT_KEEP_DAYS},
            "keep_days": settings.EXPORT_KEEP_DAYS,
        },
    )


@login_required
def download(request, pk: int):
    job = get_object_or_404(ExportJob, pk=pk, user=request.user, status=ExportStatus.DONE)
    if _expired(job) or not job.file:
        return redirect("portal:export-job", pk=job.pk)
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1])


def prune_exports() -> int:
    """Delete the files of exports older than EXPORT_KEEP_DAYS; returns how many."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.EXPORT_KEEP_DAYS)
    count = 0
    for job in ExportJob.objects.filter(created_at__lt=cutoff).exclude(file=""):
        job.file.delete(save=False)
        job.save(update_fields=["file"])
        count += 1
    return count


@task()
def prune_exports_task() -> int:
    return prune_exports()
