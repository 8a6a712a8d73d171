"""Live-mode REST API: sessions and their controls, viewer memory, the overlay's state.
Validate, call one service, serialize."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from avatarforge.errors import NotFound

from . import selectors, services
from .serializers import (
    LiveSessionCreateSerializer,
    LiveSessionSerializer,
    LiveSessionUpdateSerializer,
    OverlayStateSerializer,
    SaySerializer,
    TestChatSerializer,
    ViewerMemorySerializer,
)


def _session(request: Request, session_id) -> Response:
    return Response(LiveSessionSerializer(selectors.owned_session(user=request.user, session_id=session_id)).data)


class SessionListApi(APIView):
    @extend_schema(responses=LiveSessionSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(LiveSessionSerializer(selectors.sessions_of(user=request.user)[:100], many=True).data)

    @extend_schema(request=LiveSessionCreateSerializer, responses={201: LiveSessionSerializer})
    def post(self, request: Request) -> Response:
        data = LiveSessionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        session = services.create_session(user=request.user, title=v["title"], character_id=v["character"],
                                           platform=v["platform"], settings=v["settings"])
        return Response(LiveSessionSerializer(session).data, status=status.HTTP_201_CREATED)


class SessionDetailApi(APIView):
    @extend_schema(responses=LiveSessionSerializer)
    def get(self, request: Request, session_id) -> Response:
        return _session(request, session_id)

    @extend_schema(request=LiveSessionUpdateSerializer, responses=LiveSessionSerializer)
    def patch(self, request: Request, session_id) -> Response:
        selectors.owned_session(user=request.user, session_id=session_id)  # ownership before validation
        data = LiveSessionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "character" in changes:
            changes["character_id"] = changes.pop("character")
        session = services.update_session(user=request.user, session_id=session_id, **changes)
        return Response(LiveSessionSerializer(session).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, session_id) -> Response:
        services.delete_session(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _action(service, **fixed):
    class ActionApi(APIView):
        @extend_schema(request=None, responses=LiveSessionSerializer)
        def post(self, request: Request, session_id) -> Response:
            session = service(user=request.user, session_id=session_id, **fixed)
            return Response(LiveSessionSerializer(session).data)

    ActionApi.__name__ = ActionApi.__qualname__ = f"{service.__name__.title().replace('_', '')}Api"
    return ActionApi


StartApi = _action(services.start_session)
StopApi = _action(services.stop_session)
PauseApi = _action(services.set_ai_paused, paused=True)
ResumeApi = _action(services.set_ai_paused, paused=False)
EmergencyStopApi = _action(services.emergency_stop)
RotateOverlayKeyApi = _action(services.rotate_overlay_key)


class SayApi(APIView):
    @extend_schema(request=SaySerializer, responses={202: LiveSessionSerializer})
    def post(self, request: Request, session_id) -> Response:
        selectors.owned_session(user=request.user, session_id=session_id)
        data = SaySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.say_line(user=request.user, session_id=session_id, text=data.validated_data["text"])
        return Response(LiveSessionSerializer(session).data, status=status.HTTP_202_ACCEPTED)


class TestChatApi(APIView):
    @extend_schema(request=TestChatSerializer, responses={202: LiveSessionSerializer})
    def post(self, request: Request, session_id) -> Response:
        selectors.owned_session(user=request.user, session_id=session_id)
        data = TestChatSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.post_test_chat(user=request.user, session_id=session_id, **data.validated_data)
        return Response(LiveSessionSerializer(session).data, status=status.HTTP_202_ACCEPTED)


class ClearOverlayApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, session_id) -> Response:
        services.clear_overlay(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ViewerListApi(APIView):
    @extend_schema(responses=ViewerMemorySerializer(many=True))
    def get(self, request: Request) -> Response:
        platform = request.query_params.get("platform") or None
        return Response(ViewerMemorySerializer(selectors.viewer_memories(user=request.user, platform=platform)[:500],
                                               many=True).data)

    @extend_schema(operation_id="live_viewers_wipe_all", responses={204: None})
    def delete(self, request: Request) -> Response:
        services.wipe_viewer_memory(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ViewerDetailApi(APIView):
    @extend_schema(operation_id="live_viewers_wipe_one", responses={204: None})
    def delete(self, request: Request, viewer_pk: int) -> Response:
        if not services.wipe_viewer_memory(user=request.user, viewer_pk=viewer_pk):
            raise NotFound("No such viewer memory.", code="viewer_not_found")
        return Response(status=status.HTTP_204_NO_CONTENT)


class OverlayStateApi(APIView):
    """For OBS: the overlay key is the credential, no login."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(responses=OverlayStateSerializer)
    def get(self, request: Request, key: str) -> Response:
        return Response(OverlayStateSerializer(selectors.session_by_overlay_key(key=key)).data)
