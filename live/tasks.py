"""Periodic work of live mode (Celery beat): drop viewer memory past its retention."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="live.purge_viewer_memory", acks_late=True)
def purge_viewer_memory() -> int:
    from . import services

    return services.purge_expired_viewer_memory()
