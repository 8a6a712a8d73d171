"""REST API of stories: POST /api/story/generate (name `api:story-generate`)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .serializers import StoryRequestSerializer, StorySerializer, story_payload, validated


class StoryGenerateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Write a story from a prompt (whole answer; /ws/story/ streams it)",
        description=(
            "The story is written in the prompt's language, in chapters. Errors: story_prompt_empty, "
            "story_prompt_too_long, story_bad_length, story_bad_style, unknown_model (400); rate_limited "
            "(429, your story budget: 10 per 10 minutes) and model_busy (429, every slot of the model is "
            "taken; it never waits in line); llm_unreachable (503), llm_timeout (504) and the other llm_* "
            "codes when the model fails."
        ),
        request=StoryRequestSerializer,
        responses={
            200: StorySerializer,
            502: OpenApiResponse(description="The language model failed or wrote no story (llm_*)."),
            503: OpenApiResponse(description="The language model server cannot be reached (llm_unreachable)."),
            504: OpenApiResponse(description="The language model took too long (llm_timeout)."),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated(request.data)
        story = services.write_story_sync(user=request.user, prompt=data["prompt"], length=data["length"],
                                          style=data["style"], model_name=data["model"] or None)
        return Response(story_payload(story))
