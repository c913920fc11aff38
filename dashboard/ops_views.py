"""The staff ops page (``/dashboard/ops/``), its POST buttons, and the same figures as JSON (``/api/ops/``).

Staff only: the page and its forms through the admin's login (``staff_member_required``), the
JSON API through DRF's ``IsAdminUser`` (session or JWT), so scripts can read it with a token.
"""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import APIException, NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.errors import ChatError, ChatNotFound
from chat.services import reply_end_stuck
from webox import health

from . import ops


@staff_member_required
def ops_page(request):
    return render(request, "dashboard/ops.html", {"status": ops.ops_status(), "queue": ops.queue_name()})


@require_POST
@staff_member_required
def end_stuck_reply(request, reply_id: int):
    try:
        reply_end_stuck(reply_id=reply_id)
        messages.success(request, f"Reply {reply_id} ended.")
    except ChatError as exc:
        messages.error(request, f"Reply {reply_id}: {exc.detail}")
    return redirect("dashboard:ops")


@require_POST
@staff_member_required
def drain_worker(request):
    return _control(request, ops.worker_drain, "now takes no new replies", "did not answer")


@require_POST
@staff_member_required
def resume_worker(request):
    return _control(request, ops.worker_resume, "takes new replies again", "did not answer")


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


class OpsStatusApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: dict}, summary="Workers, queues, active replies and recent failures (staff)")
    def get(self, request):
        return Response(ops.ops_status())


class OpsEndReplyApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(request=None, responses={200: dict}, summary="End one stuck reply as the sweep would (staff)")
    def post(self, request, reply_id: int):
        try:
            reply = reply_end_stuck(reply_id=reply_id)
        except ChatError as exc:
            raise (NotFound(exc.detail) if isinstance(exc, ChatNotFound) else Conflict(exc.detail)) from None
        return Response({"id": reply.pk, "status": reply.status, "error_code": reply.error_code})


class OpsWorkerControlApi(APIView):
    permission_classes = [IsAdminUser]
    control = staticmethod(ops.worker_drain)

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
        return Response({"hostname": hostname, "queue": ops.queue_name(), "ok": True})


class OpsDrainApi(OpsWorkerControlApi):
    control = staticmethod(ops.worker_drain)


class OpsResumeApi(OpsWorkerControlApi):
    control = staticmethod(ops.worker_resume)
