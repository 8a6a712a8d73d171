"""Pages of generation."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "unavailable.html", {"title": _("Avatar generation")})
