"""Upload service: storage, encryption, limits, duplicates, conflicts, cleanup; edit and delete."""
from __future__ import annotations

import base64
import hashlib
import io
import os

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from avatarforge.errors import AppError
from characters.avatars import actors, links, services
from characters.avatars import crypto as storage_crypto
from characters.avatars import storage as avatar_storage
from characters.avatars.policy import can_use_avatar
from characters.avatars.selectors import avatar_card, avatars_usable_by
from characters.models import Actor, Avatar
from tests.characters.avatars.support import GODETTE, ROBOT, SPHERE, media_files, minimal_gltf, modified

pytestmark = pytest.mark.django_db


def create(owner, path=GODETTE, **kwargs) -> Avatar:
    return services.create_avatar_from_file(owner=owner, file=path, filename=kwargs.pop("filename", path.name), **kwargs)


def stored_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as fh:
        return fh.read()


def decrypted(avatar: Avatar) -> bytes:
    return b"".join(avatar_storage.open_decrypted(avatar))


def error_of(fn, *args, **kwargs) -> AppError:
    with pytest.raises(AppError) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.mark.parametrize(
    ("path", "version", "name", "placeholder"),
    [(GODETTE, "0.x", "Low-Poly Godette", False), (ROBOT, "1.0", "VRM Animation Debug Robot", True), (SPHERE, "0.x", "sphere", True)],
)
def test_upload_each_fixture(user, _media_root, path, version, name, placeholder):
    original = path.read_bytes()
    avatar = create(user, path)
    avatar.refresh_from_db()
    assert avatar.owner == user
    assert avatar.vrm_version == version
    assert avatar.name == name
    assert avatar.original_filename == path.name
    assert avatar.file_hash == hashlib.sha256(original).hexdigest()
    assert avatar.file_size == len(original)
    assert avatar.performance_rank == "excellent"
    assert avatar.avatar_permission == "everyone"
    assert avatar.redistribution_allowed is True
    assert avatar.thumbnail_is_placeholder is placeholder
    assert avatar.encryption_key_id == storage_crypto.current_key().id
    # at rest: ciphertext, with no readable glTF header or JSON inside
    blob = stored_bytes(avatar.storage_key)
    assert blob[:4] == b"AFE1" and b"glTF" not in blob[:64]
    assert original[20:200] not in blob
    assert decrypted(avatar) == original
    # thumbnail stored plain as WebP
    thumb = stored_bytes(avatar.thumbnail_key)
    assert thumb[:4] == b"RIFF" and thumb[8:12] == b"WEBP"
    assert len(media_files(_media_root)) == 2


def test_upload_from_file_objects(user, other_user):
    data = SPHERE.read_bytes()
    avatar = services.create_avatar_from_file(owner=user, file=io.BytesIO(data), filename="sphere.vrm")
    assert decrypted(avatar) == data

    class Stream(io.RawIOBase):  # not seekable, like a socket
        def __init__(self) -> None:
            self._b = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buf) -> int:
            chunk = self._b.read(len(buf))
            buf[: len(chunk)] = chunk
            return len(chunk)

    other = services.create_avatar_from_file(owner=other_user, file=Stream(), filename="sphere.vrm")
    assert other.file_hash == avatar.file_hash
    assert decrypted(other) == data


def test_plain_glb_upload(user):
    avatar = services.create_avatar_from_file(owner=user, file=io.BytesIO(minimal_gltf()), filename="triangle.glb")
    assert avatar.vrm_version == "gltf"
    assert avatar.name == "triangle"
    assert avatar.avatar_permission == "unknown"
    # no VRM extension at all: the one warning says so (expressions are a VRM feature, not missing)
    assert [w["code"] for w in avatar.warnings] == ["not_vrm"]


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"glTF\x02\0\0\0" + b"\0" * 16, "broken.vrm", "glb_bad_length"),
        (b"PK\x03\x04" + b"\0" * 100, "zipped.vrm", "glb_bad_magic"),
        (b"", "empty.vrm", "avatar_file_empty"),
        (b"whatever", "avatar.fbx", "avatar_file_type"),
        (b"whatever", "../../etc/passwd", "avatar_file_type"),
    ],
)
def test_failed_uploads_leave_nothing(user, _media_root, data, filename, code):
    err = error_of(services.create_avatar_from_file, owner=user, file=io.BytesIO(data), filename=filename)
    assert err.code == code and err.status == 400
    assert Avatar.objects.count() == 0
    assert media_files(_media_root) == []


def test_truncated_fixture_leaves_nothing(user, _media_root):
    data = GODETTE.read_bytes()[:300_000]
    err = error_of(services.create_avatar_from_file, owner=user, file=io.BytesIO(data), filename="godette.vrm")
    assert err.code == "glb_truncated"
    assert "again" in err.details["hint"]
    assert Avatar.objects.count() == 0 and media_files(_media_root) == []


def test_file_over_plan_limit(user, _media_root):
    user.plan.max_avatar_bytes = 100_000
    user.plan.save()
    err = error_of(create, user, GODETTE)
    assert err.status == 413 and err.code == "avatar_too_large"
    assert err.details == {"size": GODETTE.stat().st_size, "max_bytes": 100_000}
    assert "Reduce texture sizes or polygon count" in err.message and "optimizer" in err.message
    assert Avatar.objects.count() == 0 and media_files(_media_root) == []


def test_avatar_slots(user, _media_root):
    user.plan.avatar_slots = 1
    user.plan.save()
    create(user, SPHERE)
    before = media_files(_media_root)
    err = error_of(create, user, ROBOT)
    assert err.status == 403 and err.code == "avatar_slots_exceeded"
    assert "Delete" in err.message
    assert err.details["allowed"] == 1 and err.details["used"] == 1
    assert Avatar.objects.count() == 1
    assert media_files(_media_root) == before


def test_duplicate_upload_keeps_the_first_and_stores_nothing(user, _media_root):
    first = create(user, GODETTE)
    before = media_files(_media_root)
    err = error_of(create, user, GODETTE, filename="copy.vrm")
    assert err.status == 409 and err.code == "avatar_duplicate"
    assert err.details["existing_id"] == str(first.pk)
    assert Avatar.objects.count() == 1
    assert media_files(_media_root) == before


def test_duplicate_across_users_is_allowed(user, other_user):
    create(user, SPHERE)
    create(other_user, SPHERE)
    assert Avatar.objects.count() == 2


def variant_of_sphere() -> bytes:
    # Same title ("sphere") and version, different bytes.
    return modified(SPHERE, lambda g: g["extensions"]["VRM"]["meta"].update(reference="v2"))


def test_same_name_different_content_asks(user, _media_root):
    first = create(user, SPHERE)
    before = media_files(_media_root)
    err = error_of(services.create_avatar_from_file, owner=user, file=io.BytesIO(variant_of_sphere()), filename="sphere.vrm")
    assert err.status == 409 and err.code == "avatar_name_conflict"
    assert err.details["existing_id"] == str(first.pk)
    assert err.details["options"] == ["overwrite", "keep_both"]
    assert Avatar.objects.count() == 1 and media_files(_media_root) == before


def test_keep_both(user):
    create(user, SPHERE)
    second = services.create_avatar_from_file(owner=user, file=io.BytesIO(variant_of_sphere()), filename="s.vrm", on_conflict="keep_both")
    assert second.name == "sphere (2)"
    third = services.create_avatar_from_file(
        owner=user, file=io.BytesIO(modified(SPHERE, lambda g: g["extras"].update(v=3))), filename="s.vrm", on_conflict="keep_both"
    )
    assert third.name == "sphere (3)"


def test_overwrite_keeps_id_and_replaces_stored_objects(user, _media_root, django_capture_on_commit_callbacks):
    first = create(user, SPHERE)
    actor = actors.create_actor(user=user, name="Me", avatar_id=first.pk)
    old_objects = {first.storage_key, first.thumbnail_key}
    data = variant_of_sphere()
    with django_capture_on_commit_callbacks(execute=True):
        replaced = services.create_avatar_from_file(owner=user, file=io.BytesIO(data), filename="sphere.vrm", on_conflict="overwrite")
    assert replaced.pk == first.pk
    assert Avatar.objects.count() == 1
    replaced.refresh_from_db()
    assert replaced.file_hash == hashlib.sha256(data).hexdigest()
    assert decrypted(replaced) == data
    assert Actor.objects.get(pk=actor.pk).avatar_id == first.pk
    names = {str(p.relative_to(_media_root)) for p in media_files(_media_root)}
    assert names == {replaced.storage_key, replaced.thumbnail_key}
    assert not (old_objects & names)


def test_on_conflict_is_validated(user):
    assert error_of(create, user, SPHERE, on_conflict="replace").code == "invalid_on_conflict"


def test_database_failure_after_storing_cleans_up(user, _media_root, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Avatar.objects, "create", boom)
    with pytest.raises(RuntimeError):
        create(user, GODETTE)
    assert Avatar.objects.count() == 0
    assert media_files(_media_root) == []


def test_explicit_name(user):
    assert create(user, SPHERE, name="  My ball \x00 ").name == "My ball"


# --- edit, share, delete ----------------------------------------------------------------------


def test_share_only_when_license_allows(user):
    avatar = create(user, SPHERE)  # CC0: redistribution allowed
    assert services.update_avatar(user=user, avatar_id=avatar.pk, is_shared=True).is_shared is True
    closed = services.create_avatar_from_file(
        owner=user,
        file=io.BytesIO(modified(ROBOT, lambda g: g["extensions"]["VRMC_vrm"]["meta"].update(allowRedistribution=False))),
        filename="robot.vrm",
    )
    err = error_of(services.update_avatar, user=user, avatar_id=closed.pk, is_shared=True)
    assert err.status == 403 and err.code == "license_forbids_sharing"
    closed.refresh_from_db()
    assert closed.is_shared is False


def test_only_owner_edits(user, other_user):
    avatar = create(user, SPHERE)
    assert error_of(services.update_avatar, user=other_user, avatar_id=avatar.pk, name="x").status == 404
    services.update_avatar(user=user, avatar_id=avatar.pk, is_shared=True)
    assert error_of(services.update_avatar, user=other_user, avatar_id=avatar.pk, name="x").code == "not_owner"
    assert error_of(services.delete_avatar, user=other_user, avatar_id=avatar.pk).code == "not_owner"
    assert error_of(services.update_avatar, user=user, avatar_id=avatar.pk, name="  ").code == "avatar_name_required"


def test_delete_removes_row_and_objects(user, _media_root, django_capture_on_commit_callbacks):
    avatar = create(user, GODETTE)
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_avatar(user=user, avatar_id=avatar.pk)
    assert not Avatar.objects.exists()
    assert media_files(_media_root) == []


def test_delete_refused_while_actors_use_it(user, _media_root):
    avatar = create(user, GODETTE)
    actors.create_actor(user=user, name="Streamer", avatar_id=avatar.pk)
    err = error_of(services.delete_avatar, user=user, avatar_id=avatar.pk)
    assert err.status == 409 and err.code == "avatar_in_use"
    assert [a["name"] for a in err.details["actors"]] == ["Streamer"]
    assert "Streamer" in err.message
    assert Avatar.objects.count() == 1 and len(media_files(_media_root)) == 2


def test_deleting_the_user_deletes_stored_objects(user, _media_root, django_capture_on_commit_callbacks):
    avatar = create(user, GODETTE)
    actors.create_actor(user=user, name="Mine", avatar_id=avatar.pk)
    assert len(media_files(_media_root)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert not Avatar.objects.exists()
    assert media_files(_media_root) == []


def test_stream_reads_from_an_s3_like_storage(user, monkeypatch):
    """With an S3 backend the raw boto body is read (S3File would download the whole object)."""
    avatar = create(user, SPHERE)
    blob = stored_bytes(avatar.storage_key)
    calls = []

    class Obj:
        def __init__(self, key):
            calls.append(key)

        def get(self):
            return {"Body": io.BytesIO(blob)}

    class Bucket:
        Object = Obj

    class FakeS3:
        bucket = Bucket()

        def _normalize_name(self, name):
            return "prefix/" + name

    monkeypatch.setattr(avatar_storage, "storage", lambda: FakeS3())
    assert b"".join(avatar_storage.open_decrypted(avatar)) == SPHERE.read_bytes()
    assert calls == ["prefix/" + avatar.storage_key]


def test_delete_with_a_missing_object_still_succeeds(user, _media_root, django_capture_on_commit_callbacks):
    avatar = create(user, SPHERE)
    default_storage.delete(avatar.storage_key)
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_avatar(user=user, avatar_id=avatar.pk)
    assert media_files(_media_root) == []


# --- license rules for use ----------------------------------------------------------------------


def only_author_robot() -> bytes:
    return modified(ROBOT, lambda g: g["extensions"]["VRMC_vrm"]["meta"].update(avatarPermission="onlyAuthor"))


def test_author_only_avatar_needs_the_declaration(user):
    avatar = services.create_avatar_from_file(owner=user, file=io.BytesIO(only_author_robot()), filename="r.vrm")
    allowed, reason = can_use_avatar(user=user, avatar=avatar)
    assert not allowed and "author" in reason
    assert avatar not in avatars_usable_by(user)
    err = error_of(actors.create_actor, user=user, name="A", avatar_id=avatar.pk)
    assert err.code == "avatar_use_not_permitted" and not Actor.objects.exists()
    services.update_avatar(user=user, avatar_id=avatar.pk, owner_is_author=True)
    avatar.refresh_from_db()
    assert can_use_avatar(user=user, avatar=avatar) == (True, "")
    assert avatar in avatars_usable_by(user)
    actors.create_actor(user=user, name="A", avatar_id=avatar.pk)


def test_licensed_person_avatar_needs_the_declaration(user):
    data = modified(SPHERE, lambda g: g["extensions"]["VRM"]["meta"].update(allowedUserName="ExplicitlyLicensedPerson"))
    avatar = services.create_avatar_from_file(owner=user, file=io.BytesIO(data), filename="s.vrm")
    assert avatar not in avatars_usable_by(user)
    services.update_avatar(user=user, avatar_id=avatar.pk, owner_has_license=True)
    assert avatar in avatars_usable_by(user)


def test_shared_avatars_usable_by_others_only_when_everyone_may(user, other_user):
    everyone = create(user, SPHERE)
    services.update_avatar(user=user, avatar_id=everyone.pk, is_shared=True)
    author_only = services.create_avatar_from_file(owner=user, file=io.BytesIO(only_author_robot()), filename="r.vrm")
    services.update_avatar(user=user, avatar_id=author_only.pk, is_shared=True, owner_is_author=True)
    usable = set(avatars_usable_by(other_user))
    assert everyone in usable and author_only not in usable
    assert author_only in avatars_usable_by(user)
    allowed, _ = can_use_avatar(user=other_user, avatar=author_only)
    assert not allowed
    private = create(user, GODETTE)
    assert can_use_avatar(user=other_user, avatar=private)[0] is False


def test_avatar_card(user):
    avatar = create(user, GODETTE)
    card = avatar_card(avatar)
    assert card["fileHash"] == avatar.file_hash
    assert card["renderer"] == "vrm0"
    assert card["license"]["authors"] == ["SirRichard94"]
    rows = {r["key"]: r for r in card["licenseCard"]}
    assert rows["creditNotation"]["state"] == "required"
    assert rows["redistribution"]["state"] == "allowed"
    assert card["fileUrl"].endswith(f"/avatars/{avatar.pk}/file")
    assert "happy" in card["expressions"]


# --- signed links, key rotation -----------------------------------------------------------------


def test_signed_link_dies_when_the_file_changes(user):
    avatar = create(user, SPHERE)
    url, ttl = links.signed_file_url(avatar=avatar)
    token = url.split("token=")[1]
    assert links.avatar_for_token(avatar_id=avatar.pk, token=token) == avatar
    assert error_of(links.avatar_for_token, avatar_id=avatar.pk, token=token + "x").code == "download_link_invalid"
    other = create(user, ROBOT)
    assert error_of(links.avatar_for_token, avatar_id=other.pk, token=token).code == "download_link_invalid"
    Avatar.objects.filter(pk=avatar.pk).update(file_hash="0" * 64)
    assert error_of(links.avatar_for_token, avatar_id=avatar.pk, token=token).code == "avatar_changed"


def test_signed_link_expires(user, settings):
    avatar = create(user, SPHERE)
    url, _ = links.signed_file_url(avatar=avatar)
    settings.STORAGE_PRESIGN_TTL = -1
    assert error_of(links.avatar_for_token, avatar_id=avatar.pk, token=url.split("token=")[1]).code == "download_link_expired"


def test_rotate_keys_command(user, settings, _media_root, django_capture_on_commit_callbacks):
    old = base64.urlsafe_b64encode(os.urandom(32)).decode()
    new = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings.STORAGE_ENCRYPTION_KEYS = [old]
    avatar = create(user, GODETTE)
    old_key_name = avatar.storage_key
    settings.STORAGE_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("avatar_rotate_keys", stdout=out)
    assert "1 re-encrypted" in out.getvalue()
    avatar.refresh_from_db()
    assert avatar.encryption_key_id == storage_crypto.current_key().id
    assert avatar.storage_key != old_key_name
    assert not default_storage.exists(old_key_name)
    settings.STORAGE_ENCRYPTION_KEYS = [new]  # the old key can now be removed
    assert decrypted(avatar) == GODETTE.read_bytes()
    out = io.StringIO()
    call_command("avatar_rotate_keys", stdout=out)
    assert "0 re-encrypted" in out.getvalue()
