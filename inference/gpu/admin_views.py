"""Admin page of GPU hosts (/admin/gpu/): hosts, modes, VRAM, queue, services, recent switches.

A Django admin view without a model (GPU state lives in Redis); wrapped in admin_view, so staff only.
"""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from . import selectors


def gpu_status(request: HttpRequest) -> HttpResponse:
    try:
        hosts = selectors.gpu_hosts()
        for host in hosts:
            host["switches"] = selectors.recent_switches(host["host"], 10)
        error = ""
    except Exception as exc:  # Redis down: say so on the page instead of a 500
        hosts, error = [], f"{type(exc).__name__}"
    context = {**admin.site.each_context(request), "title": _("GPU hosts"), "hosts": hosts, "error": error}
    return TemplateResponse(request, "admin/inference/gpu_status.html", context)
