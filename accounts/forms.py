from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from . import login_throttle
from .models import User


class LoginForm(AuthenticationForm):
    """Django's log-in form with a limit on failed attempts (accounts.login_throttle)."""

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username") or ""
        if self.request is not None and login_throttle.blocked(self.request, email):
            raise forms.ValidationError(
                _("Too many failed attempts to log in. Wait a few minutes and try again."), code="too_many_attempts"
            )
        try:
            return super().clean()
        except forms.ValidationError as exc:
            if self.request is not None and any(e.code == "invalid_login" for e in exc.error_list):
                login_throttle.record_failure(self.request, email)
            raise


class SignUpForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "display_name")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email already exists."), code="email_taken")
        return email


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("display_name",)


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Token name"), max_length=64)
