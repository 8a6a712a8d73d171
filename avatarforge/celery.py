"""Celery application. Tasks live in each app's tasks.py and take ids, not objects."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avatarforge.settings")

app = Celery("avatarforge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Sub-package tasks (autodiscovery looks at <app>.tasks only).
app.autodiscover_tasks(["inference.gpu"])
