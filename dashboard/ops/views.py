"""Every HTTP endpoint of operations. What they answer with comes from health.py, metrics.py and
status.py, which know nothing of HTTP.

- ``GET /healthz``: database and Redis reachability (the original probe, kept as it was).
- ``GET /healthz/live``: the process answers; touches nothing else, so a slow database never
  gets a healthy process restarted.
- ``GET /healthz/ready``: every component the configuration needs, each with its state and
  latency; 200 only when all the needed ones are up (health.py).
- ``GET /metrics`` (metrics.py): open with ``DEBUG``; otherwise a request needs ``Authorization:
  Bearer <WEBOX_METRICS_TOKEN>`` or a client address in ``WEBOX_METRICS_ALLOW``; with neither set,
  it answers 403.
- The staff ops page (``/dashboard/ops/``), its POST buttons, and the same figures as JSON
  (``/api/ops/``) (status.py). Reading is for staff: the page through the admin's login
  (``staff_member_required``), the JSON API through DRF's ``IsAdminUser`` (session or JWT), so
  scripts can read it with a token. Acting (drain, resume, end a stuck reply; every POST) also
  needs the ``dashboard.operate`` permission (``OPERATE``; superusers have it): 403 without.
"""

import hmac
import ipaddress
from dataclasses import asdict

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound
from rest_framework.permissions import BasePermission, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.errors import ChatError, ChatNotFound
from chat.services import reply_end_stuck
from webox.client_address import client_address

from . import health
from .status import ops_status, queue_name, worker_drain, worker_resume

OPERATE = "dashboard.operate"


@never_cache
@require_GET
def healthz(request):
    checks = {"database": health.check_database(), "redis": health.check_redis()}
    healthy = all(not value.startswith("error") for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    components = health.readiness()
    healthy = all(c.state == health.OK for c in components.values() if c.required)
    body = {"status": "ok" if healthy else "error", "runner": settings.WEBOX_RUNNER,
            "components": {name: asdict(c) for name, c in components.items()}}
    return JsonResponse(body, status=200 if healthy else 503)


def _allowed(request) -> bool:
    if settings.DEBUG:
        return True
    token = settings.WEBOX_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in settings.WEBOX_METRICS_ALLOW)


@never_cache
@require_GET
def metrics(request):
    if not _allowed(request):
        return JsonResponse({"detail": "Metrics need a bearer token (WEBOX_METRICS_TOKEN) or an allowed address."},
                            status=403)
    # prometheus_client is imported by the first scrape, not by every server process.
    from prometheus_client import CONTENT_TYPE_LATEST

    from .metrics import render_metrics

    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)


@staff_member_required
def ops_page(request):
    return render(request, "dashboard/ops.html", {"status": ops_status(), "queue": queue_name(),
                                                  "can_operate": request.user.has_perm(OPERATE)})


@require_POST
@staff_member_required
@permission_required(OPERATE, raise_exception=True)
def end_stuck_reply(request, reply_id: int):
    try:
        reply_end_stuck(reply_id=reply_id)
        messages.success(request, f"Reply {reply_id} ended.")
    except ChatError as exc:
        messages.error(request, f"Reply {reply_id}: {exc.detail}")
    return redirect("dashboard:ops")


@require_POST
@staff_member_required
@permission_required(OPERATE, raise_exception=True)
def drain_worker(request):
    return _control(request, worker_drain, "now takes no new replies", "did not answer")


@require_POST
@staff_member_required
@permission_required(OPERATE, raise_exception=True)
def resume_worker(request):
    return _control(request, worker_resume, "takes new replies again", "did not answer")


def _control(request, action, done: str, failed: str):
    hostname = request.POST.get("hostname", "").strip()
    if not hostname or not health.uses_celery():
        messages.error(request, "No such worker.")
    elif action(hostname=hostname):
        messages.success(request, f"{hostname} {done}.")
    else:
        messages.error(request, f"{hostname} {failed}.")
    return redirect("dashboard:ops")


class Conflict(APIException):
    status_code = 409


class CanOperate(BasePermission):
    message = "This needs the permission to operate (dashboard.operate)."

    def has_permission(self, request, view):
        return request.user.has_perm(OPERATE)


class OpsStatusApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: dict}, summary="Workers, queues, active replies and recent failures (staff)")
    def get(self, request):
        return Response(ops_status())


class OpsEndReplyApi(APIView):
    permission_classes = [IsAdminUser, CanOperate]

    @extend_schema(request=None, responses={200: dict}, summary="End one stuck reply as the sweep would (staff)")
    def post(self, request, reply_id: int):
        try:
            reply = reply_end_stuck(reply_id=reply_id)
        except ChatError as exc:
            raise (NotFound(exc.detail) if isinstance(exc, ChatNotFound) else Conflict(exc.detail)) from None
        return Response({"id": reply.pk, "status": reply.status, "error_code": reply.error_code})


class OpsWorkerControlApi(APIView):
    permission_classes = [IsAdminUser, CanOperate]
    control = staticmethod(worker_drain)

    class InputSerializer(serializers.Serializer):
        hostname = serializers.CharField(max_length=255)

    @extend_schema(request=InputSerializer, responses={200: dict})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if not health.uses_celery():
            raise Conflict("Replies run in-process: there are no Celery workers.")
        hostname = data.validated_data["hostname"]
        if not self.control(hostname=hostname):
            raise NotFound(f"{hostname} did not answer.")
        return Response({"hostname": hostname, "queue": queue_name(), "ok": True})


class OpsDrainApi(OpsWorkerControlApi):
    control = staticmethod(worker_drain)


class OpsResumeApi(OpsWorkerControlApi):
    control = staticmethod(worker_resume)
