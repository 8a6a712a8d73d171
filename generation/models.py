"""Generation jobs and their stages (artifacts, previews, timings)."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
# The statuses as the API documents them (one OpenAPI enum for generation and style jobs).
JOB_STATUS_VALUES = [status.value for status in JobStatus]


class GenerationJob(models.Model):
    """One photo -> avatar run. Writes happen in generation.services; the worker owns a running job
    through `run_token` (a newer run supersedes an older, possibly stuck, one)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_jobs", verbose_name=_("owner"))
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    stage = models.CharField(_("stage"), max_length=32, blank=True, help_text=_("The running stage, or the one that failed."))
    options = models.JSONField(_("options"), default=dict, blank=True)
    input_file = models.CharField(_("input file"), max_length=255, blank=True, help_text=_("Storage name of the uploaded photo."))
    input_name = models.CharField(_("uploaded file name"), max_length=255, blank=True)
    input_bytes = models.PositiveIntegerField(_("uploaded bytes"), default=0)
    source_job = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derived_jobs", verbose_name=_("photo from job"))
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    error_details = models.JSONField(_("error details"), null=True, blank=True)
    retries = models.PositiveSmallIntegerField(_("retries"), default=0)
    recoveries = models.PositiveSmallIntegerField(_("crash recoveries"), default=0)
    run_token = models.UUIDField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    avatar = models.ForeignKey(
        "characters.Avatar", on_delete=models.SET_NULL, null=True, blank=True, related_name="generation_jobs",
        verbose_name=_("resulting avatar"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("generation job")
        verbose_name_plural = _("generation jobs")
        indexes = [models.Index(fields=["owner", "-created_at"]), models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def duration_ms(self) -> int | None:
        if self.started_at and self.finished_at:
            return int((self.finished_at - self.started_at).total_seconds() * 1000)
        return None


class StageStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class JobStage(models.Model):
    """A stage of a job: what it produced (files in storage, small data), its preview and timing.
    A retry re-runs only stages that are not done, reading earlier stages' artifacts."""

    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="stages", verbose_name=_("job"))
    name = models.CharField(_("name"), max_length=32)
    position = models.PositiveSmallIntegerField(_("position"))
    status = models.CharField(_("status"), max_length=16, choices=StageStatus.choices, default=StageStatus.PENDING)
    backend = models.CharField(_("backend"), max_length=200, blank=True)
    runs = models.PositiveSmallIntegerField(_("runs"), default=0)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    files = models.JSONField(_("files"), default=dict, blank=True, help_text=_("Artifact name -> storage name."))
    preview = models.CharField(_("preview"), max_length=255, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["job", "position"]
        verbose_name = _("job stage")
        verbose_name_plural = _("job stages")
        constraints = [models.UniqueConstraint(fields=["job", "name"], name="generation_stage_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"


class StyleJob(models.Model):
    """One photo -> 2D stylized portrait run (seed 004 section 5.7, POST /api/style/transform).
    Writes happen in generation.style.services; the worker owns a running job through `run_token`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="style_jobs", verbose_name=_("owner"))
    status = models.CharField(_("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    step = models.CharField(_("step"), max_length=16, blank=True, help_text=_("The running step, or the one that failed."))
    preset = models.CharField(_("style preset"), max_length=16)
    strength = models.FloatField(_("strength"))
    input_file = models.CharField(_("input file"), max_length=255, blank=True, help_text=_("Storage name of the uploaded photo."))
    input_bytes = models.PositiveIntegerField(_("uploaded bytes"), default=0)
    result_file = models.CharField(_("result file"), max_length=255, blank=True)
    reading = models.JSONField(_("photo reading"), null=True, blank=True)
    method = models.CharField(_("face found by"), max_length=16, blank=True)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    error_details = models.JSONField(_("error details"), null=True, blank=True)
    retries = models.PositiveSmallIntegerField(_("retries"), default=0)
    run_token = models.UUIDField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("style job")
        verbose_name_plural = _("style jobs")
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.id} ({self.preset}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED
