"""Account pages: sign up, profile with plan usage and API tokens. Log in/out and password
change use Django's views with our templates (see urls.py)."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from avatarforge.errors import AppError
from avatarforge.throttling import check_rate
from avatarforge.views import flash_app_error

from . import selectors, services
from .forms import ProfileForm, SignUpForm, TokenForm


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("profile")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            check_rate(request, "signup")
        except AppError as exc:
            form.add_error(None, exc.message)
            return render(request, "accounts/signup.html", {"form": form}, status=exc.status)
        user = services.create_user(
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            display_name=form.cleaned_data.get("display_name", ""),
        )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to AvatarForge!"))
        return redirect("home")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Profile saved."))
        return redirect("profile")
    context = {
        "form": form,
        "usage": services.usage_for(user=request.user),
        "tokens": selectors.tokens_for(user=request.user),
        "token_form": TokenForm(),
        "new_token": request.session.pop("new_token", None),
    }
    return render(request, "accounts/profile.html", context)


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            check_rate(request, "auth")  # the token API's rate
            _token, raw = services.create_api_token(user=request.user, name=form.cleaned_data["name"])
        except AppError as exc:
            messages.error(request, exc.message)
        else:
            # Shown once on the next page load, then gone from the session.
            request.session["new_token"] = raw
    else:
        messages.error(request, _("Give the token a name."))
    return redirect("profile")


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        services.revoke_api_token(user=request.user, token_id=token_id)
        messages.success(request, _("Token revoked."))
    except AppError as exc:
        flash_app_error(request, exc)
    return redirect("profile")
