"""A URLconf for error-format tests: the real one plus API views that fail on purpose."""
from django.urls import path
from rest_framework.decorators import api_view, permission_classes

from avatarforge.urls import urlpatterns as real_patterns


@api_view(["GET"])
@permission_classes([])
def boom(request):
    raise RuntimeError("kaboom with secret details")


def plain_boom(request):
    raise RuntimeError("plain kaboom")


urlpatterns = [path("api/test/boom", boom), path("api/test/plain-boom", plain_boom), *real_patterns]
