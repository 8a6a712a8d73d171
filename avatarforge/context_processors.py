from django.conf import settings
from django.http import HttpRequest

from . import __version__


def site(request: HttpRequest) -> dict[str, object]:
    return {"APP_VERSION": __version__, "DEBUG": settings.DEBUG}
