"""REST API of AI characters: list/create, read/update/delete, copy, card import and export,
portrait, and the creation wizard. Each view validates, calls one service, serializes.

Reads of public and unlisted characters work without signing in; everything else needs an
account. Errors use the project's format ({code, message, details})."""
from __future__ import annotations

import uuid
from typing import Any

from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from avatarforge.errors import AppError, NotFound
from avatarforge.json_body import JsonBodyParser
from avatarforge.pagination import BoundedLimitOffsetPagination

from . import moderation, selectors, services, wizard_progress
from .cards import cards
from .cards.errors import CardError
from .serializers import (
    CardExportQuerySerializer,
    CardImportSerializer,
    CharacterDraftSerializer,
    CharacterListQuerySerializer,
    CharacterReportSerializer,
    CharacterSerializer,
    CharacterSummarySerializer,
    WizardProgressSerializer,
    WizardRegenerateSerializer,
    WizardStartSerializer,
)

ERROR = OpenApiResponse(description="Error: {code, message, details}")


class RawCardJSONParser(parsers.BaseParser):
    """`application/json` bodies for card import stay bytes: the card parser checks them."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> bytes:
        data = stream.read(cards.MAX_JSON_BYTES + 1) if stream is not None else b""
        return data


class IgnoreFormatNegotiation(DefaultContentNegotiation):
    """`?format=v2|v3` names the card version here, not a DRF renderer."""

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple:
        renderer = renderers[0]
        return renderer, renderer.media_type


class WizardThrottle(UserRateThrottle):
    scope = "character_wizard"
    rate = "60/hour"


JSON_PARSERS = [JsonBodyParser, parsers.FormParser, parsers.MultiPartParser]


def _payload_check(request: Request, limit: int) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + 64 * 1024:  # multipart framing
        raise cards._too_large(limit)


class CharacterListApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = JSON_PARSERS
    pagination_class = BoundedLimitOffsetPagination  # the schema documents the page envelope from it

    @extend_schema(
        parameters=[CharacterListQuerySerializer],
        responses=CharacterSummarySerializer(many=True),
        summary="List characters: by default your own and featured ones (presets included); scope=all for every public one",
    )
    def get(self, request: Request) -> Response:
        query = CharacterListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        qs = selectors.listed_characters(user=request.user, **query.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CharacterSummarySerializer(page, many=True, context={"request": request}).data)

    @extend_schema(request=CharacterSerializer, responses={201: CharacterSerializer, 400: ERROR, 403: ERROR},
                   summary="Create a character from all its fields")
    def post(self, request: Request) -> Response:
        serializer = CharacterSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        character = services.create_character(owner=request.user, fields=serializer.validated_data)
        return Response(CharacterSerializer(character, context={"request": request}).data, status=status.HTTP_201_CREATED)


class CharacterDetailApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    parser_classes = JSON_PARSERS

    @extend_schema(responses={200: CharacterSerializer, 404: ERROR})
    def get(self, request: Request, character_id: str) -> Response:
        character = selectors.get_visible_character(user=request.user, character_id=character_id)
        return Response(CharacterSerializer(character, context={"request": request}).data)

    @extend_schema(request=CharacterSerializer, responses={200: CharacterSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
                   summary="Change some fields (owner only)")
    def patch(self, request: Request, character_id: str) -> Response:
        return self._update(request, character_id, partial=True)

    @extend_schema(request=CharacterSerializer, responses={200: CharacterSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
                   summary="Replace all fields (owner only)")
    def put(self, request: Request, character_id: str) -> Response:
        return self._update(request, character_id, partial=False)

    def _update(self, request: Request, character_id: str, *, partial: bool) -> Response:
        character = selectors.get_owned_character(user=request.user, character_id=character_id)
        serializer = CharacterSerializer(character, data=request.data, partial=partial, context={"request": request})
        serializer.is_valid(raise_exception=True)
        character = services.update_character(user=request.user, character_id=character.pk, fields=serializer.validated_data)
        return Response(CharacterSerializer(character, context={"request": request}).data)

    @extend_schema(responses={204: None, 403: ERROR, 404: ERROR}, summary="Delete (owner only)")
    def delete(self, request: Request, character_id: str) -> Response:
        services.delete_character(user=request.user, character_id=character_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CharacterCopyApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: CharacterSerializer, 403: ERROR, 404: ERROR},
                   summary="Copy a character you can see (a preset, say) into your own private ones")
    def post(self, request: Request, character_id: str) -> Response:
        copy = services.copy_character(user=request.user, character_id=character_id)
        return Response(CharacterSerializer(copy, context={"request": request}).data, status=status.HTTP_201_CREATED)


class CharacterReportApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = JSON_PARSERS

    @extend_schema(
        request=CharacterReportSerializer,
        responses={201: CharacterReportSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR, 429: ERROR},
        summary="Report someone else's character to the moderators",
        description="Errors: invalid (reason not one of the choices, details over 1000 characters), "
        "report_own_character and report_not_allowed (403: your own character, a preset), not_found, "
        "report_exists (409: your earlier report on it is still open), report_rate_limited (429: 10 an hour).",
    )
    def post(self, request: Request, character_id: str) -> Response:
        character = selectors.reportable_character(user=request.user, character_id=character_id)  # before validation
        serializer = CharacterReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = moderation.report_character(user=request.user, character_id=character.pk, **serializer.validated_data)
        return Response(CharacterReportSerializer(report).data, status=status.HTTP_201_CREATED)


class CharacterImportApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [parsers.MultiPartParser, RawCardJSONParser]
    # Parsing a card decodes and re-encodes its picture (up to 4096x4096): the upload rate.
    throttle_scope = "upload"

    def get_throttles(self) -> list[Any]:
        return [*super().get_throttles(), ScopedRateThrottle()]

    @extend_schema(
        request={"multipart/form-data": CardImportSerializer, "application/json": OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("visibility", str, enum=["private", "unlisted", "public"], default="private",
                                     description="For a JSON body (multipart uploads send it as a form field)")],
        responses={201: CharacterSerializer, 400: ERROR, 413: ERROR},
        summary="Import a Character Card (V1/V2/V3, JSON or PNG)",
        description="Multipart `file` (PNG or JSON) with optional `visibility`, or the card JSON itself as the body. "
        "Errors: card_too_large, card_not_png, card_png_invalid, card_png_no_data, card_base64_invalid, "
        "card_invalid_json, card_unsupported_format, card_too_deep, card_unknown_spec, card_wrong_type, "
        "card_missing_name, card_field_too_long, card_image_too_large, card_invalid. Nothing is saved on error.",
    )
    def post(self, request: Request) -> Response:
        _payload_check(request, cards.MAX_PNG_BYTES)
        if isinstance(request.data, bytes):
            raw, filename, content_type = request.data, "card.json", "application/json"
            visibility = request.query_params.get("visibility", "private")
        else:
            upload = request.data.get("file")
            if upload is None or not hasattr(upload, "read"):
                raise AppError(_("Choose a card file to import."), code="invalid", details={"file": [_("This field is required.")]})
            if upload.size > cards.MAX_PNG_BYTES:
                raise cards._too_large(cards.MAX_PNG_BYTES)
            raw = upload.read(cards.MAX_PNG_BYTES + 1)
            filename, content_type = upload.name or "", upload.content_type or ""
            visibility = request.data.get("visibility") or "private"
        if visibility not in ("private", "unlisted", "public"):
            raise CardError(_("Choose a valid visibility."), code="invalid", details={"visibility": ["private", "unlisted", "public"]})
        character = services.import_card(
            owner=request.user, raw=raw, filename=filename, content_type=content_type, visibility=visibility
        )
        return Response(CharacterSerializer(character, context={"request": request}).data, status=status.HTTP_201_CREATED)


class CharacterExportApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    content_negotiation_class = IgnoreFormatNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["v2", "v3"], default="v3", description="Card spec version"),
            OpenApiParameter("as", str, enum=["json", "png"], default="json", description="File type"),
        ],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "image/png"): OpenApiTypes.BINARY, 404: ERROR},
        summary="Export as a Character Card (V2/V3, JSON or PNG with the card in a text chunk)",
    )
    def get(self, request: Request, character_id: str) -> HttpResponse:
        query = CardExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data, content_type, filename = services.export_card(
            user=request.user, character_id=character_id, version=query.validated_data["format"],
            as_png=query.validated_data["as"] == "png",
        )
        response = HttpResponse(data, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


class CharacterPortraitApi(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]
    content_negotiation_class = IgnoreFormatNegotiation

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY, 404: ERROR}, summary="The character's portrait image")
    def get(self, request: Request, character_id: str) -> HttpResponse:
        character = selectors.get_visible_character(user=request.user, character_id=character_id)
        return portrait_response(character)


def portrait_response(character: Any) -> HttpResponse:
    if not character.portrait_key:
        raise NotFound(_("This character has no portrait."), code="not_found")
    try:
        with default_storage.open(character.portrait_key, "rb") as fh:
            data = fh.read()
    except OSError:
        raise NotFound(_("This character has no portrait."), code="not_found") from None
    response = HttpResponse(data, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


# --- wizard -------------------------------------------------------------------------------------

class WizardStartApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = JSON_PARSERS
    throttle_classes = [WizardThrottle]

    @extend_schema(
        request=WizardStartSerializer,
        responses={201: CharacterDraftSerializer, 400: ERROR, 409: ERROR, 429: ERROR, 502: ERROR, 503: ERROR, 504: ERROR},
        summary="Wizard step 1: generate every field from name, category and source work",
        description="The LLM fills the sheet as schema-checked JSON; the result is saved as a draft (1 of "
        "3 generations used). Errors: wizard_invalid_output (the answer did not match the schema; nothing "
        "saved), wizard_cancelled (409: cancelled through its progress_id), wizard_rate_limited, llm_* (the "
        "model could not be reached, or took longer than the wizard's time budget).",
    )
    def post(self, request: Request) -> Response:
        serializer = WizardStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        language = data.get("language") or ("ko" if (get_language() or "").startswith("ko") else "en")
        draft = services.start_wizard(
            owner=request.user, name=data["name"], category=data["category"], source_work=data["source_work"], language=language,
            progress_id=data.get("progress_id"),
        )
        return Response(CharacterDraftSerializer(draft, context={"request": request}).data, status=status.HTTP_201_CREATED)


class WizardDraftApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: CharacterDraftSerializer, 404: ERROR}, summary="Wizard step 2: the generated draft")
    def get(self, request: Request, draft_id: str) -> Response:
        draft = selectors.get_draft(user=request.user, draft_id=draft_id)
        return Response(CharacterDraftSerializer(draft, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: ERROR}, summary="Discard a draft")
    def delete(self, request: Request, draft_id: str) -> Response:
        services.discard_wizard(user=request.user, draft_id=draft_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WizardRegenerateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = JSON_PARSERS
    throttle_classes = [WizardThrottle]

    @extend_schema(
        request=WizardRegenerateSerializer,
        responses={200: CharacterDraftSerializer, 403: ERROR, 404: ERROR, 409: ERROR, 502: ERROR, 504: ERROR},
        summary="Generate the draft again (at most 3 generations in all)",
        description="A 4th generation answers 403 `wizard_generation_limit`. A failed generation does not count.",
    )
    def post(self, request: Request, draft_id: str) -> Response:
        draft = selectors.get_draft(user=request.user, draft_id=draft_id)
        serializer = WizardRegenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        draft = services.regenerate_wizard(user=request.user, draft_id=draft.pk, **serializer.validated_data)
        return Response(CharacterDraftSerializer(draft, context={"request": request}).data)


class WizardProgressApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: WizardProgressSerializer, 404: ERROR},
                   summary="A running wizard generation: the field being written",
                   description="For the `progress_id` sent with a wizard start or regenerate request, while it runs.")
    def get(self, request: Request, progress_id: uuid.UUID) -> Response:
        state = wizard_progress.read(user_id=request.user.pk, progress_id=progress_id)
        return Response(WizardProgressSerializer(state).data)

    @extend_schema(responses={202: WizardProgressSerializer, 404: ERROR}, summary="Cancel a running wizard generation",
                   description="The generation stops within about a second (the model server stops too); its "
                   "request answers 409 `wizard_cancelled` and saves nothing.")
    def delete(self, request: Request, progress_id: uuid.UUID) -> Response:
        state = wizard_progress.cancel(user_id=request.user.pk, progress_id=progress_id)
        return Response(WizardProgressSerializer(state).data, status=status.HTTP_202_ACCEPTED)


class WizardFinishApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = JSON_PARSERS

    @extend_schema(request=CharacterSerializer, responses={200: CharacterSerializer, 400: ERROR, 404: ERROR},
                   summary="Save the (edited) draft as a character")
    def post(self, request: Request, draft_id: str) -> Response:
        draft = selectors.get_draft(user=request.user, draft_id=draft_id)
        serializer = CharacterSerializer(draft, data=request.data, partial=True, context={"request": request})
        serializer.is_valid(raise_exception=True)
        character = services.finish_wizard(user=request.user, draft_id=draft.pk, fields=serializer.validated_data)
        return Response(CharacterSerializer(character, context={"request": request}).data)

