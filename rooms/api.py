"""Rooms REST API: create, list, get (with who is in the call), close, invite, redeem, ICE
servers, practice partner. Validate, call one service, serialize."""
from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from avatarforge.errors import AppError, NotFound
from avatarforge.json_body import JsonBodyParser

from . import selectors, services
from .ice import ice_servers_for
from .models import Room
from .selectors import Participant
from .serializers import (
    IceServerSerializer,
    InviteSerializer,
    RedeemedSerializer,
    RedeemSerializer,
    RoomCreateSerializer,
    RoomSerializer,
)


def _room_or_404(code: str) -> Room:
    room = selectors.room_by_code(code)
    if room is None:
        raise NotFound(_("No room has this code."), code="room_not_found")
    return room


def _participant_or_403(request: Request, room: Room) -> Participant:
    """Users (session or token) and guests (session) of this room. Guests authenticate by session
    cookie without a DRF user, so CSRF is checked here the way SessionAuthentication would."""
    participant = selectors.participant_for(room=room, user=request.user, session=request.session)
    if participant is None:
        raise AppError(_("Sign in, or open the room's invite link, first."), code="not_authenticated", status=401)
    if request.auth is None and request.method not in ("GET", "HEAD", "OPTIONS"):
        SessionAuthentication().enforce_csrf(request)
    return participant


def _call_participant_or_404(request: Request, room: Room) -> Participant:
    """The owner, a guest with this room's invite, or a user in one of its seats. Anyone else who
    merely knows the code gets the answer an unknown code gets: a foreign room is not found."""
    _participant_or_403(request, room)  # 401 for nobody at all; CSRF for session writes
    participant = selectors.call_participant_for(room=room, user=request.user, session=request.session)
    if participant is None:
        raise NotFound(_("No room has this code."), code="room_not_found")
    return participant


class RoomListApi(APIView):
    throttle_scope = "auth"  # creating rooms: the same rate as invites (close-and-create loops pile up rows)

    def get_throttles(self) -> list:
        throttles = super().get_throttles()
        if self.request.method == "POST":
            throttles.append(ScopedRateThrottle())
        return throttles

    @extend_schema(responses=RoomSerializer(many=True))
    def get(self, request: Request) -> Response:
        rooms = selectors.open_rooms_of(user_id=request.user.pk).select_related("owner")[:100]
        return Response(RoomSerializer(rooms, many=True, context={"request": request}).data)

    @extend_schema(request=RoomCreateSerializer, responses={201: RoomSerializer})
    def post(self, request: Request) -> Response:
        serializer = RoomCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        room = services.create_room(owner=request.user, title=serializer.validated_data["title"])
        return Response(RoomSerializer(room, context={"request": request}).data, status=status.HTTP_201_CREATED)


class RoomDetailApi(APIView):
    @extend_schema(responses=RoomSerializer)
    def get(self, request: Request, code: str) -> Response:
        # Knowing the unguessable code is what lets a signed-in user join, so it also lets them look.
        return Response(RoomSerializer(_room_or_404(code), context={"request": request}).data)


class RoomCloseApi(APIView):
    @extend_schema(request=None, responses=RoomSerializer)
    def post(self, request: Request, code: str) -> Response:
        room = services.close_room(room_id=_room_or_404(code).pk, user=request.user)
        return Response(RoomSerializer(room, context={"request": request}).data)


class RoomInviteApi(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=None, responses={201: InviteSerializer})
    def post(self, request: Request, code: str) -> Response:
        invite, token = services.create_invite(room=_room_or_404(code), user=request.user)
        url = request.build_absolute_uri(f"/rooms/invite/{token}/")
        return Response(
            InviteSerializer({"token": token, "url": url, "expires_at": invite.expires_at}).data,
            status=status.HTTP_201_CREATED,
        )


class InviteRedeemApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    # No authentication means DRF checks no CSRF token, and this writes the session: JSON only,
    # which a cross-site form cannot send (it would need a CORS preflight we never grant). Else
    # any page could seat a visitor's browser as a guest in the attacker's room.
    parser_classes = [JsonBodyParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=RedeemSerializer, responses=RedeemedSerializer, auth=[])
    def post(self, request: Request) -> Response:
        serializer = RedeemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        room, guest = services.redeem_invite(token=serializer.validated_data["token"], name=serializer.validated_data["name"])
        services.remember_guest(session=request.session, room_code=room.code, guest=guest)
        data = {
            "room": room.code,
            "url": request.build_absolute_uri(room.get_absolute_url()),
            "ws_path": room.ws_path,
            "guest": {"name": guest["name"]},
        }
        return Response(RedeemedSerializer(data).data)


class IceServersApi(APIView):
    permission_classes = [AllowAny]  # the owner, guests and seated users of this room, checked below

    @extend_schema(responses=IceServerSerializer(many=True))
    def get(self, request: Request, code: str) -> Response:
        participant = _call_participant_or_404(request, _room_or_404(code))
        return Response(ice_servers_for(subject=participant.turn_subject))


class PracticeApi(APIView):
    permission_classes = [AllowAny]  # the owner, guests and seated users of this room, checked below
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        request=None,
        responses={202: inline_serializer("PracticeStarted", {"status": drf_serializers.CharField()})},
    )
    def post(self, request: Request, code: str) -> Response:
        room = _room_or_404(code)
        participant = _call_participant_or_404(request, room)
        base_url = settings.PRACTICE_PEER_URL or request.build_absolute_uri("/")
        services.start_practice(room=room, participant=participant, base_url=base_url)
        return Response({"status": "starting"}, status=status.HTTP_202_ACCEPTED)
