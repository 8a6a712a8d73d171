"""AI conversations: a user talks with a character; messages, memory summaries, emotion poses.

A Conversation belongs to one user and one character. Its Messages are numbered by `seq`
(gap-free within the conversation, assigned under the user's row lock). Summaries cover a range
of message seqs (level 0) or fold older summaries (level >= 1, hierarchical); a summary that was
folded points to its parent and is no longer sent to the model. Deleting a conversation deletes
its messages and summaries (CASCADE).

EmotionPose is the editable emotion -> avatar table the browser applies with lerp.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_USER_TEXT = 4000  # characters in one user message
MAX_REPLY_TEXT = 32000  # characters kept of one reply (max_tokens caps it well before)
MAX_TITLE = 200


class Emotion(models.TextChoices):
    NEUTRAL = "neutral", _("Neutral")
    HAPPY = "happy", _("Happy")
    SAD = "sad", _("Sad")
    ANGRY = "angry", _("Angry")
    SURPRISED = "surprised", _("Surprised")
    EXCITED = "excited", _("Excited")


# Avatar expression weights every pose carries (VRM 1.0 preset names; the 2D face uses the same).
EXPRESSIONS = ("happy", "sad", "angry", "surprised", "relaxed")
HEAD_AXES = ("pitch", "yaw", "roll")  # degrees


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("user"))
    character = models.ForeignKey(
        "characters.Character", on_delete=models.CASCADE, related_name="conversations", verbose_name=_("character")
    )
    title = models.CharField(_("title"), max_length=MAX_TITLE, blank=True, default="")
    # Our model name (inference.llm.ModelConfig.name); empty = the default model at reply time.
    model_name = models.CharField(_("model"), max_length=100, blank=True, default="")
    # How the character addresses the user ({{user}}); defaults to the user's display name.
    user_name = models.CharField(_("your name in the story"), max_length=100, blank=True, default="")
    scenario_counterpart = models.CharField(_("scenario: counterpart"), max_length=200, blank=True, default="")
    scenario_situation = models.TextField(_("scenario: situation"), blank=True, default="", validators=[MaxLengthValidator(4000)])
    scenario_background = models.TextField(_("scenario: background"), blank=True, default="", validators=[MaxLengthValidator(8000)])
    last_emotion = models.CharField(_("last emotion"), max_length=16, choices=Emotion.choices, default=Emotion.NEUTRAL)
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    # Messages up to this seq were read for memories across conversations (chat.memories), or
    # were said while memory was off and must never be.
    memories_through_seq = models.PositiveIntegerField(_("memories read up to message"), default=0)

    class Meta:
        ordering = ["-updated_at", "-created_at"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [models.Index(fields=["user", "-updated_at"], name="conversation_user_recent")]

    def __str__(self) -> str:
        return self.title or str(self.id)

    def scenario(self) -> dict[str, str]:
        return {"counterpart": self.scenario_counterpart, "situation": self.scenario_situation, "background": self.scenario_background}


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", _("User")
        ASSISTANT = "assistant", _("Character")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting for a free model slot")
        STREAMING = "streaming", _("Being written")
        COMPLETE = "complete", _("Complete")
        CANCELLED = "cancelled", _("Stopped")
        FAILED = "failed", _("Failed")

    IN_FLIGHT = (Status.QUEUED, Status.STREAMING)

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conversation"))
    seq = models.PositiveIntegerField(_("number"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    text = models.TextField(_("text"), blank=True, default="", validators=[MaxLengthValidator(MAX_REPLY_TEXT)])
    emotion = models.CharField(_("emotion"), max_length=16, choices=Emotion.choices, blank=True, default="")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.COMPLETE)
    # Tokens of `text` by our offline tokenizer (cl100k); what the memory budget counts.
    token_count = models.PositiveIntegerField(_("tokens"), default=0)
    # What the model reported (or our estimate when it did not): prompt and completion tokens.
    prompt_tokens = models.PositiveIntegerField(_("prompt tokens"), null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(_("completion tokens"), null=True, blank=True)
    model_name = models.CharField(_("model"), max_length=100, blank=True, default="")
    error_code = models.CharField(_("error code"), max_length=64, blank=True, default="")
    # Timings in milliseconds: waiting for a slot, first token after the request, whole reply.
    queue_ms = models.PositiveIntegerField(_("queued (ms)"), null=True, blank=True)
    ttft_ms = models.PositiveIntegerField(_("first token (ms)"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["conversation", "seq"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [models.UniqueConstraint(fields=["conversation", "seq"], name="message_unique_seq")]
        indexes = [models.Index(fields=["status", "updated_at"], name="message_status_updated")]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq} {self.role}"


class Summary(models.Model):
    """A summary of messages [start_seq, end_seq]; level 0 from messages, level n from level n-1."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="summaries", verbose_name=_("conversation"))
    level = models.PositiveSmallIntegerField(_("level"), default=0)
    start_seq = models.PositiveIntegerField(_("first message"))
    end_seq = models.PositiveIntegerField(_("last message"))
    text = models.TextField(_("text"), validators=[MaxLengthValidator(MAX_REPLY_TEXT)])
    token_count = models.PositiveIntegerField(_("tokens"), default=0)
    # Set when folded into a higher-level summary; only summaries without a parent are used.
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children", verbose_name=_("folded into"))
    model_name = models.CharField(_("model"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["conversation", "start_seq", "-level"]
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")
        indexes = [models.Index(fields=["conversation", "parent", "start_seq"], name="summary_active")]

    def __str__(self) -> str:
        return f"{self.conversation_id} L{self.level} {self.start_seq}-{self.end_seq}"


def _validate_weights(value: object) -> None:
    if not isinstance(value, dict) or set(value) - set(EXPRESSIONS):
        raise ValidationError(_("Expression weights must be an object with keys among: %(keys)s.") % {"keys": ", ".join(EXPRESSIONS)})
    for key, weight in value.items():
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight <= 1:
            raise ValidationError(_("Weight of %(key)s must be a number from 0 to 1.") % {"key": key})


def _validate_transitions(value: object) -> None:
    allowed = set(EXPRESSIONS) | {f"head_{axis}" for axis in HEAD_AXES}
    if not isinstance(value, dict) or set(value) - allowed:
        raise ValidationError(_("Per-parameter transitions must be an object with keys among: %(keys)s.") % {"keys": ", ".join(sorted(allowed))})
    for key, seconds in value.items():
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0.1 <= seconds <= 0.5:
            raise ValidationError(_("Transition of %(key)s must be between 0.1 and 0.5 seconds.") % {"key": key})


class EmotionPose(models.Model):
    """Emotion -> avatar parameters (seed: pose_mapping.json), applied in the browser with lerp."""

    emotion = models.CharField(_("emotion"), max_length=16, choices=Emotion.choices, unique=True)
    expressions = models.JSONField(_("expression weights"), default=dict, validators=[_validate_weights],
                                   help_text=_("0–1 per expression: happy, sad, angry, surprised, relaxed."))
    head_pitch = models.FloatField(_("head pitch (°)"), default=0.0, validators=[MinValueValidator(-30), MaxValueValidator(30)])
    head_yaw = models.FloatField(_("head yaw (°)"), default=0.0, validators=[MinValueValidator(-30), MaxValueValidator(30)])
    head_roll = models.FloatField(_("head roll (°)"), default=0.0, validators=[MinValueValidator(-30), MaxValueValidator(30)])
    transition = models.FloatField(_("transition (s)"), default=0.3, validators=[MinValueValidator(0.1), MaxValueValidator(0.5)],
                                   help_text=_("Seconds to blend into this pose (0.1–0.5)."))
    transitions = models.JSONField(_("per-parameter transitions (s)"), default=dict, blank=True, validators=[_validate_transitions],
                                   help_text=_("Optional overrides, e.g. {\"head_pitch\": 0.5, \"happy\": 0.15}."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["emotion"]
        verbose_name = _("emotion pose")
        verbose_name_plural = _("emotion poses")

    def __str__(self) -> str:
        return self.get_emotion_display()

    def as_dict(self) -> dict[str, object]:
        return {
            "expressions": {name: float(self.expressions.get(name, 0.0)) for name in EXPRESSIONS},
            "head": {"pitch": self.head_pitch, "yaw": self.head_yaw, "roll": self.head_roll},
            "transition": self.transition,
            "transitions": {key: float(v) for key, v in (self.transitions or {}).items()},
        }


MAX_MEMORY_TEXT = 300  # characters in one remembered fact


class CharacterMemory(models.Model):
    """A short fact a character keeps about a user across conversations (chat.memories).

    `embedding` is the fact's sentence vector (inference.embeddings: float32 bytes, model in
    `embedding_model`); plain vectors ranked with numpy, as a user's set per character is small
    (MAX_MEMORIES). Deleting the conversation a fact was learned in forgets the fact (CASCADE),
    as the delete page promises.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="character_memories", verbose_name=_("user"))
    character = models.ForeignKey("characters.Character", on_delete=models.CASCADE, related_name="memories", verbose_name=_("character"))
    text = models.CharField(_("text"), max_length=MAX_MEMORY_TEXT)
    embedding = models.BinaryField(_("embedding"), null=True, blank=True, editable=False)
    embedding_model = models.CharField(_("embedding model"), max_length=64, blank=True, default="")
    source_conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="memories",
                                            verbose_name=_("learned in"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("memory")
        verbose_name_plural = _("memories")
        indexes = [models.Index(fields=["user", "character", "-updated_at"], name="memory_user_character")]

    def __str__(self) -> str:
        return self.text[:60]


class MemorySetting(models.Model):
    """Whether a character remembers a user across conversations (on unless a row says off)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memory_settings", verbose_name=_("user"))
    character = models.ForeignKey("characters.Character", on_delete=models.CASCADE, related_name="memory_settings",
                                  verbose_name=_("character"))
    enabled = models.BooleanField(_("remember me"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("memory setting")
        verbose_name_plural = _("memory settings")
        constraints = [models.UniqueConstraint(fields=["user", "character"], name="memory_setting_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.character_id}: {'on' if self.enabled else 'off'}"
