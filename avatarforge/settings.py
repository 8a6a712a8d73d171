"""AvatarForge settings. Everything comes from the environment; see .env.example.

Embedded defaults (no variables set) run on one machine with no system services: SQLite, an
in-process channel layer (or the embedded Redis that `manage.py runembedded` starts), files in
var/. Production sets DATABASE_URL, REDIS_URL, STORAGE_BACKEND=s3 and friends.
"""
from __future__ import annotations

import sys
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF, WASM_UNSAFE_EVAL
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import env_bool, env_choice, env_int, env_json, env_list, env_str, env_url
from .local_secret import LEGACY_EMBEDDED_SECRET_KEY, local_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("AVATARFORGE_VAR_DIR", str(BASE_DIR / "var")))
TESTING = "pytest" in sys.modules or env_bool("AVATARFORGE_TESTING", False)

# --- core -------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not TESTING and not env_bool("AVATARFORGE_EMBEDDED", False):
        raise ImproperlyConfigured("Environment variable SECRET_KEY is required when DEBUG is off.")
    # Tests keep a fixed key; embedded and DEBUG installs make their own random one (never a
    # constant from the source code: it signs download links and invites and, without
    # STORAGE_ENCRYPTION_KEYS, derives the avatar encryption key).
    SECRET_KEY = LEGACY_EMBEDDED_SECRET_KEY if TESTING else local_secret_key(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_url("SITE_URL", "http://127.0.0.1:8000", schemes=("http", "https"))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "avatarforge",
    "accounts",
    "characters",
    "rooms",
    "chat",
    "inference",
    "generation",
    "live",
    "calls",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files answer before CSP (not documents)
    "csp.middleware.CSPMiddleware",
    "avatarforge.middleware.ApiBodySizeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "avatarforge.middleware.ApiExceptionMiddleware",
]

ROOT_URLCONF = "avatarforge.urls"
WEBSOCKET_ROUTING = ["rooms.routing", "chat.routing", "generation.routing", "live.routing"]  # avatarforge.ws_routing
# Non-core /api/health components that feature apps provide (name -> function returning a detail).
HEALTH_CHECKS = {"stt": "inference.speech.health.stt_status", "tts": "inference.speech.health.tts_status",
                 "live": "live.health.live_status"}
ASGI_APPLICATION = "avatarforge.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "avatarforge.context_processors.site",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{VAR_DIR / 'avatarforge.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql", "pgsql"),
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0, minimum=0))}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL + a busy timeout let Daphne and the worker share the embedded SQLite file. IMMEDIATE
    # transactions take the write lock at BEGIN, where the busy timeout waits for it: a deferred
    # one that read first and then writes cannot wait (SQLite answers "database is locked" at
    # once to avoid a deadlock), which failed four parallel avatar uploads with 503.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- redis, channel layer, cache, celery ------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, exactly channels-redis's
            # BZPOPMIN wait: a quiet consumer then dies with "Timeout reading". Give reads slack.
            # Its asyncio pool also refuses (MaxConnectionsError) past 100 concurrent commands,
            # which one busy Daphne reaches with a few hundred sockets: allow more.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "max_connections": 2000}],
                "prefix": env_str("CHANNEL_PREFIX", "asgi"),
                "expiry": 30,
                # All sockets of one Daphne process share one Redis list for their messages, and
                # `capacity` bounds it (default 100): a burst to a few hundred sockets raised
                # ChannelFull, and at 1000, 2000 rooms relaying their offers at once (1000 to each
                # of two processes, beside their peer_joined) lost 13 % of them. Signaling
                # messages are a few hundred bytes: 20000 queued per process is a few MB of Redis.
                "capacity": 20000,
            },
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a crashed worker's task is redelivered, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
# Periodic work runs on Celery beat (`celery -A avatarforge beat`; `make run` starts one), never
# from a page, an API read or a socket. Task names, so settings import no app code.
CELERY_BEAT_SCHEDULE = {
    # Jobs whose worker died (no heartbeat) or that no worker picked up are failed with a reason.
    "generation-sweep-stale-jobs": {
        "task": "generation.sweep_stale_jobs",
        "schedule": env_int("GENERATION_SWEEP_INTERVAL", 60, minimum=5),
        "options": {"queue": "default", "expires": 60},
    },
    # Viewer memory past each streamer's retention is deleted (live mode, seed 003 privacy).
    "live-purge-viewer-memory": {
        "task": "live.purge_viewer_memory",
        "schedule": env_int("LIVE_PURGE_INTERVAL", 3600, minimum=60),
        "options": {"queue": "default", "expires": 3600},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- files ------------------------------------------------------------------------------------
STORAGE_BACKEND = env_choice("STORAGE_BACKEND", "local", ("local", "s3"))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never served directly: files go through authorizing views
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
if STORAGE_BACKEND == "s3":
    AWS_STORAGE_BUCKET_NAME = env_str("S3_BUCKET")
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("Environment variable S3_BUCKET is required when STORAGE_BACKEND=s3.")
    AWS_S3_ENDPOINT_URL = env_url("S3_ENDPOINT_URL", "", schemes=("http", "https")) or None
    AWS_S3_REGION_NAME = env_str("S3_REGION", "auto")
    AWS_ACCESS_KEY_ID = env_str("S3_ACCESS_KEY_ID")
    AWS_SECRET_ACCESS_KEY = env_str("S3_SECRET_ACCESS_KEY")
    AWS_QUERYSTRING_EXPIRE = env_int("S3_PRESIGN_TTL", 300, minimum=10, maximum=604800)
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False
    # boto3's default transfer (8 MB parts, 10 threads, 10 parts buffered in memory) holds ~90 MB
    # per stored 200 MB avatar (bench.upload); two 8 MB parts in flight keep it bounded.
    from boto3.s3.transfer import TransferConfig

    AWS_S3_TRANSFER_CONFIG = TransferConfig(multipart_chunksize=8 * 2**20, max_concurrency=2, max_io_queue=2)
    AWS_S3_TRANSFER_CONFIG.max_in_memory_upload_chunks = 2  # s3transfer's knob; boto3's __init__ lacks it
    _default_storage = {"BACKEND": "storages.backends.s3.S3Storage"}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGE_PRESIGN_TTL = env_int("S3_PRESIGN_TTL", 300, minimum=10, maximum=604800)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
# --- Content-Security-Policy (django-csp) ------------------------------------------------------
# Strict: scripts only from our origin (bundled ES modules) or inline with this response's nonce
# (`nonce="{{ request.csp_nonce }}"`); no inline handlers, no 'unsafe-eval'. 'wasm-unsafe-eval'
# lets MediaPipe compile its WebAssembly; blob: workers and images are what three.js/three-vrm
# and MediaPipe create at run time. With S3 storage, presigned downloads come from the bucket.
_CSP_EXTRA = env_list("CSP_EXTRA_ORIGINS", [])
if STORAGE_BACKEND == "s3":
    _bucket_origin = AWS_S3_ENDPOINT_URL or f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com"
    _CSP_EXTRA.append("/".join(_bucket_origin.split("/")[:3]))
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, WASM_UNSAFE_EVAL],
        "worker-src": [SELF, "blob:"],
        "connect-src": [SELF, "blob:", "data:", *_CSP_EXTRA],
        "img-src": [SELF, "blob:", "data:", *_CSP_EXTRA],
        "media-src": [SELF, "blob:", *_CSP_EXTRA],
        "style-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# AES-256 keys (urlsafe base64 of 32 bytes, comma separated, newest first) encrypting stored
# avatar bytes (characters/avatars/crypto.py); rotate by prepending, then `manage.py avatar_rotate_keys`.
# Empty: a key derived from SECRET_KEY, for embedded/dev use only.
STORAGE_ENCRYPTION_KEYS = env_list("STORAGE_ENCRYPTION_KEYS", [])
# Hard ceiling for any request body; per-plan limits are checked in services.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 210 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
JSON_MAX_DEPTH = 64  # REST bodies and WebSocket frames (avatarforge/json_body.py)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # bigger uploads stream to a temporary file
FILE_UPLOAD_TEMP_DIR = None

# --- LLM --------------------------------------------------------------------------------------
# LLM_MODELS: JSON list of {"name", "base_url", "api_key", "model", "context_length",
# "max_tokens", "temperature"}, optionally "chat_max_tokens", "frequency_penalty", "presence_penalty",
# "extra_body" (server-specific sampling, e.g. {"repeat_penalty": 1.1} for llama.cpp or
# {"repetition_penalty": 1.1} for vLLM) and "constrain" ("llama_grammar", "vllm_regex",
# "vllm_guided_regex" or "none": how a reply is forced to start with its emotion tag). Or a single endpoint through LLM_BASE_URL / LLM_MODEL / LLM_API_KEY.
# With neither, `runembedded` starts the embedded local model server.
LLM_MODELS = env_json("LLM_MODELS", [])
if not isinstance(LLM_MODELS, list) or not all(isinstance(m, dict) for m in LLM_MODELS):
    raise ImproperlyConfigured("Environment variable LLM_MODELS must be a JSON list of objects.")
LLM_BASE_URL = env_url("LLM_BASE_URL", "", schemes=("http", "https"))
LLM_API_KEY = env_str("LLM_API_KEY", "not-needed")
LLM_MODEL = env_str("LLM_MODEL", "")
LLM_CONTEXT_LENGTH = env_int("LLM_CONTEXT_LENGTH", 8192, minimum=512)
LLM_MAX_TOKENS = env_int("LLM_MAX_TOKENS", 512, minimum=1)
LLM_TIMEOUT = env_int("LLM_TIMEOUT", 60, minimum=1)
LLM_MAX_CONCURRENCY = env_int("LLM_MAX_CONCURRENCY", 12, minimum=1)
EMBEDDED_LLM_PORT = env_int("EMBEDDED_LLM_PORT", 8001, minimum=1, maximum=65535)
# The model (a name from LLM_MODELS) the character creation wizard asks; empty = the default model.
CHARACTER_WIZARD_MODEL = env_str("CHARACTER_WIZARD_MODEL", "")
# Memories across conversations (chat.memories): a conversation quiet for this many seconds is read
# for facts about the user.
MEMORY_IDLE_SECONDS = env_int("MEMORY_IDLE_SECONDS", 300, minimum=0)

# Extra sections of GET /api/health: name -> dotted path of a function returning JSON.
HEALTH_SECTIONS = {"gpu": "inference.gpu.selectors.health_section", "voice_workers": "chat.voice.dispatch.health_section"}
# --- speech (inference/speech/; docs/voice.md) -------------------------------------------------
# Engines: "embedded" (CPU, packaged models: faster-whisper, Piper + espeak-ng) or a GPU server.
SPEECH_STT_ENGINE = env_choice("SPEECH_STT_ENGINE", "embedded", ("embedded", "openai"))
SPEECH_STT_URL = env_url("SPEECH_STT_URL", "", schemes=("http", "https"))
SPEECH_STT_API_KEY = env_str("SPEECH_STT_API_KEY", "")
SPEECH_STT_MODEL = env_str("SPEECH_STT_MODEL", "whisper-1")
SPEECH_STT_MAX_TOKENS = env_int("SPEECH_STT_MAX_TOKENS", 96, minimum=8, maximum=448)
SPEECH_TTS_ENGINE = env_choice("SPEECH_TTS_ENGINE", "embedded", ("embedded", "openai", "gpt-sovits"))
SPEECH_TTS_URL = env_url("SPEECH_TTS_URL", "", schemes=("http", "https"))
SPEECH_TTS_API_KEY = env_str("SPEECH_TTS_API_KEY", "")
SPEECH_TTS_MODEL = env_str("SPEECH_TTS_MODEL", "tts-1")
# The GPU engine's voices: JSON list of {"id", "name", "language", "gender", "engine_voice",
# and for GPT-SoVITS "ref_audio_path", "prompt_text", "prompt_lang"}.
SPEECH_TTS_VOICES = env_json("SPEECH_TTS_VOICES", [])
if SPEECH_TTS_ENGINE != "embedded" and not SPEECH_TTS_URL:
    raise ImproperlyConfigured("Environment variable SPEECH_TTS_URL is required when SPEECH_TTS_ENGINE is not embedded.")
if SPEECH_STT_ENGINE != "embedded" and not SPEECH_STT_URL:
    raise ImproperlyConfigured("Environment variable SPEECH_STT_URL is required when SPEECH_STT_ENGINE is not embedded.")
# The GPU host mode (docs/gpu.md) the speech engines need when they run on a switching GPU host:
# every synthesis / transcription then waits for and holds that mode. Empty: no GPU host involved.
SPEECH_TTS_GPU_MODE = env_choice("SPEECH_TTS_GPU_MODE", "", ("", "chat", "tts", "gen3d", "style"))
SPEECH_STT_GPU_MODE = env_choice("SPEECH_STT_GPU_MODE", "", ("", "chat", "tts", "gen3d", "style"))
SPEECH_MODELS_DIR = Path(env_str("SPEECH_MODELS_DIR", str(VAR_DIR / "models")))
# End of the user's turn in voice sessions: Smart Turn v3 after a short pause (falls back to the
# pause alone when its model is not installed), or the pause alone.
# Live captions while the user speaks: re-transcribe the utterance after every this many ms of new
# speech (0: off). Off by default with the embedded CPU Whisper, where a second pass would delay the
# final transcript on 2 cores; on with a GPU transcription server.
SPEECH_PARTIAL_TRANSCRIPT_MS = env_int("SPEECH_PARTIAL_TRANSCRIPT_MS", 0 if SPEECH_STT_ENGINE == "embedded" else 700, minimum=0)
SPEECH_TURN_DETECTOR = env_choice("SPEECH_TURN_DETECTOR", "smart_turn", ("smart_turn", "pause"))
TTS_MAX_CHARS = env_int("TTS_MAX_CHARS", 500, minimum=1)
# Characters of synthesized text per user per day by plan code (cached repeats are free).
TTS_DAILY_CHARS = env_json("TTS_DAILY_CHARS", {"free": 5000, "pro": 50000, "studio": 200000, "enterprise": 1000000})

# --- WebRTC -----------------------------------------------------------------------------------
STUN_URLS = env_list("STUN_URLS", [])
TURN_URLS = env_list("TURN_URLS", [])
TURN_SECRET = env_str("TURN_SECRET", "")

# AI VTuber live mode: the Chzzk open-API application (developers.chzzk.naver.com).
CHZZK_CLIENT_ID = env_str("CHZZK_CLIENT_ID", "")
CHZZK_CLIENT_SECRET = env_str("CHZZK_CLIENT_SECRET", "")
CHZZK_API_BASE = env_url("CHZZK_API_BASE", "https://openapi.chzzk.naver.com", schemes=("http", "https"))
CHZZK_AUTH_URL = env_url("CHZZK_AUTH_URL", "https://chzzk.naver.com/account-interlock", schemes=("http", "https"))
TURN_TTL = env_int("TURN_TTL", 3600, minimum=60, maximum=86400)
if TURN_URLS and not TURN_SECRET:
    raise ImproperlyConfigured("Environment variable TURN_SECRET is required when TURN_URLS is set.")
ROOM_TTL_HOURS = env_int("ROOM_TTL_HOURS", 24, minimum=1)
# Where the practice-partner peer (a child process of Daphne) reaches this server; empty: the
# (ALLOWED_HOSTS-checked) host the request came to.
PRACTICE_PEER_URL = env_url("PRACTICE_PEER_URL", "", schemes=("http", "https"))
# Practice partners (each an aiortc child process of Daphne for up to 10 minutes) running at once
# on this deployment; 0 turns the feature off. Each person may run one at a time.
PRACTICE_MAX_RUNNING = env_int("PRACTICE_MAX_RUNNING", 4, minimum=0)
# A call with a character (calls/): the longest one may last, in seconds; the character leaves then.
CHARACTER_CALL_MAX_S = env_int("CHARACTER_CALL_MAX_S", 600, minimum=10, maximum=3600)

# --- auth, i18n -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("ko", _("Korean"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("THROTTLE_ANON", "120/min"),
        "user": env_str("THROTTLE_USER", "1200/min"),
        "auth": "20/min",
        "upload": "60/hour",
        "signup": "10/hour",  # new accounts per client address (each account brings a plan's quotas)
        "tts": env_str("THROTTLE_TTS", "30/min"),
        "generation_preview": env_str("THROTTLE_GENERATION_PREVIEW", "60/min"),  # the creator's live preview
    },
    # One JSON parser with size and depth limits for every API body (avatarforge/json_body.py).
    "DEFAULT_PARSER_CLASSES": [
        "avatarforge.json_body.JsonBodyParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "avatarforge.openapi.ErrorAutoSchema",  # documents the error family on every operation
    "EXCEPTION_HANDLER": "avatarforge.error_handlers.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "avatarforge.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Which client address throttles count by. DRF's default (None) takes X-Forwarded-For as
    # sent, so any client dodges the anonymous and login rates with a made-up header. 0: the
    # socket's address; behind N trusted proxies, the address the outermost of them saw.
    "NUM_PROXIES": env_int("NUM_PROXIES", 1 if env_bool("BEHIND_PROXY", False) else 0, minimum=0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AvatarForge API",
    "DESCRIPTION": "Avatars, calls, AI characters and generation jobs. Errors: {code, message, details}.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TtsLanguageEnum": "inference.speech.serializers.LANGUAGE_CHOICES",
        "LanguageEnum": "avatarforge.settings.LANGUAGES",  # the interface languages (en, ko)
        "JobStatusEnum": "generation.models.JOB_STATUS_VALUES",  # generation and style jobs share their statuses
    },
}

# --- security (production values make `check --deploy` clean) --------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
