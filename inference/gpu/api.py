"""System API of GPU hosts (seed 004 section 5.8), staff only: switch a mode, read VRAM."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .serializers import ModeRequestSerializer, ModeSwitchSerializer, VramSerializer


class SystemModeApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="Switch a GPU host's mode (staff)",
        description="Queued fairly with every other mode request. 507 vram_insufficient when the GPU lacks memory "
                    "for the mode; 503 service_unavailable when no GPU host is up or the wait timed out.",
        request=ModeRequestSerializer, responses={200: ModeSwitchSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ModeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        grant = services.switch_mode(user=request.user, mode=data.validated_data["mode"], host=data.validated_data.get("host"))
        return Response(ModeSwitchSerializer(grant).data)


class SystemVramApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(summary="GPU memory and services per GPU host (staff)", responses={200: VramSerializer})
    def get(self, request: Request) -> Response:
        return Response(VramSerializer({"hosts": selectors.gpu_hosts()}).data)
