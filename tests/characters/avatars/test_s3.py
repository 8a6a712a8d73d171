"""The S3 storage path against a real S3 HTTP server (moto's, started by the tests): our boto3 /
django-storages code speaks the real wire protocol. Multipart upload, streamed and ranged reads,
presigned direct uploads (accepted and refused: nothing left in the bucket), delete, key rotation."""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command

from avatarforge import direct_uploads
from bench.s3_server import moto_s3
from characters.avatars import crypto as storage_crypto
from characters.avatars import services
from characters.models import Avatar

from .support import GODETTE, SPHERE, upload_file

pytestmark = pytest.mark.django_db
_buckets = itertools.count()


@pytest.fixture(scope="module")
def s3_server():
    with moto_s3("unused") as endpoint:
        yield endpoint


@pytest.fixture
def s3(settings, s3_server):
    """A fresh bucket per test, and settings as STORAGE_BACKEND=s3 would make them."""
    bucket = f"avatars-{next(_buckets)}"
    s3_server.client().create_bucket(Bucket=bucket)
    endpoint = type(s3_server)(url=s3_server.url, bucket=bucket)
    env = endpoint.env
    settings.STORAGE_BACKEND = "s3"
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = endpoint.url
    settings.AWS_S3_REGION_NAME = env["S3_REGION"]
    settings.AWS_ACCESS_KEY_ID = env["S3_ACCESS_KEY_ID"]
    settings.AWS_SECRET_ACCESS_KEY = env["S3_SECRET_ACCESS_KEY"]
    settings.AWS_DEFAULT_ACL = None
    settings.AWS_S3_FILE_OVERWRITE = False
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "storages.backends.s3.S3Storage"}}
    return endpoint


def _download(api_client, avatar_id: str) -> bytes:
    response = api_client.get(f"/api/avatars/{avatar_id}/file")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _ticket(api_client, filename: str, size: int):
    return api_client.post("/api/avatars/uploads", {"filename": filename, "size": size}, format="json")


def _send_to_bucket(ticket: dict, data: bytes) -> requests.Response:
    assert ticket["method"] == "POST"
    return requests.post(ticket["url"], data=ticket["fields"], files={"file": ("upload", data)}, timeout=30)


def test_multipart_upload_stores_ciphertext_in_the_bucket_and_reads_it_back(api_client, s3):
    response = api_client.post("/api/avatars", {"file": upload_file("godette.vrm", GODETTE.read_bytes())}, format="multipart")
    assert response.status_code == 201, response.json()
    avatar = Avatar.objects.get(pk=response.json()["id"])
    assert s3.keys() == sorted([avatar.storage_key, avatar.thumbnail_key])
    stored = s3.client().get_object(Bucket=s3.bucket, Key=avatar.storage_key)["Body"].read()
    assert stored.startswith(storage_crypto.MAGIC) and GODETTE.read_bytes()[:64] not in stored
    assert _download(api_client, avatar.pk) == GODETTE.read_bytes()


def test_range_reader_reads_any_slice_of_an_object(s3, settings):
    data = os.urandom(300_000)
    s3.client().put_object(Bucket=s3.bucket, Key="blob", Body=data)
    reader = direct_uploads.S3RangeReader(direct_uploads._bucket().Object("blob"), len(data))
    assert reader.seek(0, 2) == len(data)
    reader.seek(123_456)
    assert reader.read(1000) == data[123_456:124_456]
    assert reader.read(5) == data[124_456:124_461]  # continues the same ranged stream
    reader.seek(7)
    assert reader.read(3) == data[7:10]
    reader.seek(len(data) - 10)
    assert reader.read() == data[-10:] and reader.read(1) == b""
    reader.close()


def test_presigned_direct_upload_is_validated_encrypted_and_the_upload_object_deleted(api_client, s3):
    data = GODETTE.read_bytes()
    ticket = _ticket(api_client, "godette.vrm", len(data))
    assert ticket.status_code == 201, ticket.json()
    body = ticket.json()
    assert body["max_bytes"] == 200 * 2**20 and body["expires_in"] > 0
    sent = _send_to_bucket(body, data)
    assert sent.status_code in (200, 201, 204), sent.text
    assert [k.split("/")[0] for k in s3.keys()] == ["uploads"]  # plaintext waits in the bucket

    done = api_client.post(f"/api/avatars/uploads/{body['id']}/complete", {"name": "Direct"}, format="json")
    assert done.status_code == 201, done.json()
    result = done.json()
    assert result["name"] == "Direct" and result["file_hash"] == hashlib.sha256(data).hexdigest()
    avatar = Avatar.objects.get(pk=result["id"])
    assert s3.keys() == sorted([avatar.storage_key, avatar.thumbnail_key])  # no uploads/ object left
    assert _download(api_client, avatar.pk) == data


def test_a_refused_direct_upload_leaves_nothing_in_the_bucket(api_client, s3):
    ticket = _ticket(api_client, "broken.vrm", 16).json()
    assert _send_to_bucket(ticket, b"not a glb at all").status_code in (200, 201, 204)
    done = api_client.post(f"/api/avatars/uploads/{ticket['id']}/complete", {}, format="json")
    assert done.status_code == 400 and done.json()["code"] == "glb_bad_magic"
    assert s3.keys() == [] and not Avatar.objects.exists()


def test_complete_before_the_file_arrived(api_client, s3):
    ticket = _ticket(api_client, "godette.vrm", 100).json()
    done = api_client.post(f"/api/avatars/uploads/{ticket['id']}/complete", {}, format="json")
    assert done.status_code == 400 and done.json()["code"] == "direct_upload_missing"


def test_another_users_upload_id_is_not_found_and_not_consumed(api_client, s3, make_user):
    ticket = _ticket(api_client, "sphere.vrm", SPHERE.stat().st_size).json()
    _send_to_bucket(ticket, SPHERE.read_bytes())
    from rest_framework.test import APIClient

    other = APIClient()
    other.force_authenticate(make_user())
    response = other.post(f"/api/avatars/uploads/{ticket['id']}/complete", {"on_conflict": "bogus"}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"  # ownership before validation
    assert len(s3.keys("uploads/")) == 1
    forged = api_client.post(f"/api/avatars/uploads/{ticket['id']}x/complete", {}, format="json")
    assert forged.status_code == 404


def test_ticket_refuses_bad_names_and_sizes_before_anything_reaches_the_bucket(api_client, s3, user):
    assert _ticket(api_client, "x.exe", 10).json()["code"] == "avatar_file_type"
    assert _ticket(api_client, "x.vrm", 0).json()["code"] == "avatar_file_empty"
    too_big = _ticket(api_client, "x.vrm", user.plan.max_avatar_bytes + 1)
    assert too_big.status_code == 413 and too_big.json()["code"] == "avatar_too_large"
    assert s3.keys() == []


def test_a_file_over_the_ticket_limit_is_refused_and_deleted(api_client, s3, user):
    user.plan.max_avatar_bytes = 1000
    user.plan.save()
    ticket = _ticket(api_client, "x.vrm", 1000).json()
    assert ticket["max_bytes"] == 1000
    # AWS/R2 enforce the signed policy's size range at the bucket (moto does not, so the server's
    # own check below is what refuses here).
    policy = json.loads(base64.b64decode(ticket["fields"]["policy"]))
    assert ["content-length-range", 1, 1000] in policy["conditions"]
    assert _send_to_bucket(ticket, b"x" * 5000).status_code in (200, 201, 204)
    done = api_client.post(f"/api/avatars/uploads/{ticket['id']}/complete", {}, format="json")
    assert done.status_code == 413 and done.json()["code"] == "avatar_too_large"
    assert s3.keys() == []


def test_direct_upload_unavailable_with_local_storage(api_client, settings):
    assert settings.STORAGE_BACKEND == "local"
    response = _ticket(api_client, "x.vrm", 10)
    assert response.status_code == 409 and response.json()["code"] == "direct_upload_unavailable"
    done = api_client.post("/api/avatars/uploads/anything/complete", {}, format="json")
    assert done.status_code == 409 and done.json()["code"] == "direct_upload_unavailable"


def test_purge_deletes_uploads_that_were_never_completed(api_client, s3):
    ticket = _ticket(api_client, "sphere.vrm", SPHERE.stat().st_size).json()
    _send_to_bucket(ticket, SPHERE.read_bytes())
    s3.client().put_object(Bucket=s3.bucket, Key="avatars/keep", Body=b"x")
    assert direct_uploads.purge_stale() == 0  # still completable
    assert direct_uploads.purge_stale(older_than=timedelta(0)) == 1
    assert s3.keys() == ["avatars/keep"]


def test_delete_removes_the_objects_from_the_bucket(api_client, user, s3, django_capture_on_commit_callbacks):
    avatar = services.create_avatar_from_file(owner=user, file=SPHERE, filename="sphere.vrm")
    assert len(s3.keys()) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.delete(f"/api/avatars/{avatar.pk}").status_code == 204
    assert s3.keys() == []


def test_key_rotation_rewrites_objects_in_the_bucket(api_client, s3, settings, django_capture_on_commit_callbacks):
    old_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    new_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings.STORAGE_ENCRYPTION_KEYS = [old_key]
    response = api_client.post("/api/avatars", {"file": upload_file("godette.vrm", GODETTE.read_bytes())}, format="multipart")
    avatar = Avatar.objects.get(pk=response.json()["id"])
    old_object = avatar.storage_key

    settings.STORAGE_ENCRYPTION_KEYS = [new_key, old_key]
    with django_capture_on_commit_callbacks(execute=True):
        call_command("avatar_rotate_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
    avatar.refresh_from_db()
    assert avatar.storage_key != old_object and avatar.encryption_key_id == storage_crypto.current_key().id
    assert old_object not in s3.keys() and avatar.storage_key in s3.keys()
    settings.STORAGE_ENCRYPTION_KEYS = [new_key]  # the old key can go now
    assert _download(api_client, avatar.pk) == GODETTE.read_bytes()
