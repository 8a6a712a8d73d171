"""Every admin changelist and add page answers 200 for a superuser (all apps' models)."""
from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import User


@pytest.fixture
def admin_client_(client, db):
    superuser = User.objects.create_superuser(email="root@example.com", password="pw-long-enough-1")
    client.force_login(superuser)
    return client


def model_admins():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.django_db
def test_every_model_has_an_admin():
    from django.apps import apps

    ours = {"accounts", "characters", "rooms", "chat", "generation"}
    missing = [m._meta.label for m in apps.get_models() if m._meta.app_label in ours and m not in admin.site._registry
               and not m._meta.auto_created]
    assert missing == []


@pytest.mark.django_db
def test_changelist_and_add_pages(admin_client_):
    checked = 0
    for model, model_admin in model_admins():
        opts = model._meta
        changelist = admin_client_.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code == 200, opts.label
        searched = admin_client_.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), {"q": "x"})
        assert searched.status_code == 200, opts.label
        if model_admin.has_add_permission(changelist.wsgi_request):
            assert admin_client_.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add")).status_code == 200, opts.label
        checked += 1
    assert checked >= 3
