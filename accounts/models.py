"""Users (email login), plans with limits, and named API tokens."""
from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avatarforge.text import normalize_name

from .plans import PLAN_LABELS


class Plan(models.Model):
    """Limits a user's account may use. Edited by operators in admin; enforced in services."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    is_default = models.BooleanField(_("default for new users"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    actor_slots = models.PositiveIntegerField(_("actor slots"), default=1)
    avatar_slots = models.PositiveIntegerField(_("avatar slots"), default=50)
    max_avatar_bytes = models.PositiveBigIntegerField(_("max avatar file (bytes)"), default=200 * 1024 * 1024)
    concurrent_conversations = models.PositiveIntegerField(_("concurrent AI conversations"), default=1)
    generation_jobs_per_day = models.PositiveIntegerField(_("generation jobs per day"), default=3)

    class Meta:
        ordering = ["sort_order", "id"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The name in the page's language: a default plan's name is translated, unless an
        operator renamed it (then their name is shown as written)."""
        english, translated = PLAN_LABELS.get(self.code, (None, None))
        return str(translated) if self.name == english else self.name

    @classmethod
    def default(cls) -> Plan:
        plan = cls.objects.filter(is_default=True).first() or cls.objects.order_by("sort_order").first()
        if plan is None:
            plan = cls.objects.create(code="free", name="Free", is_default=True)
        return plan


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        extra.setdefault("plan", Plan.default())
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # Log-in (ModelBackend) looks users up here: emails match in any case, also for rows
        # stored before every save lowercased them. Should two such old rows differ only in
        # case, only the exact spelling logs in (never a MultipleObjectsReturned error).
        key = (username or "").strip()
        matches = list(self.filter(email__iexact=key)[:2])
        if len(matches) == 1:
            return matches[0]
        return self.get(email=key)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="users", verbose_name=_("plan"))
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every path that sets the display name (sign-up, profile form, API, admin) ends here:
        # the shared name normalizer runs once for all of them.
        self.display_name = normalize_name(self.display_name, max_length=64)
        # Same for the email: stored lower-case, so the unique index is a case-insensitive one.
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    @property
    def name(self) -> str:
        return self.display_name or self.email.split("@")[0]


class ApiToken(models.Model):
    """A named token for apps. Only a SHA-256 of the secret is stored; it is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=64)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
