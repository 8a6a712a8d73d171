"""The whole CPU pipeline on real inputs: a face photo and a drawing without a face."""
from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from characters.models import Avatar
from generation.chibi.head import EXPRESSIONS
from generation.chibi.spec import BONE_NAMES, VRM_REQUIRED_BONES
from generation.chibi.vrm import read_glb_json
from generation.models import JobStatus, StageStatus
from generation.stages import PIPELINE
from generation.stages.validate import run_node_check

from .conftest import create_job, run

ISSUE_EXPRESSIONS = {"blink", "blinkLeft", "blinkRight", "aa", "ih", "ou", "ee", "oh", "happy", "angry", "sad", "surprised"}


def read(name: str) -> bytes:
    with default_storage.open(name, "rb") as fh:
        return fh.read()


@pytest.mark.django_db
def test_face_photo_becomes_a_valid_rigged_vrm_in_the_library(user, face_jpeg, tmp_path, _media_root):
    job = create_job(
        user, face_jpeg, name="Astro", style="comic", heads=2.4, build="slim",
        license={"avatar_permission": "everyone", "commercial_usage": "corporation", "allow_redistribution": True,
                 "modification": "allowModification", "credit_notation": "unnecessary"},
    )
    raw_upload = job.input_file
    assert default_storage.exists(raw_upload)

    assert run(job) == "succeeded"
    assert job.status == JobStatus.SUCCEEDED and job.progress == 100
    assert job.error_code == "" and job.finished_at is not None
    stages = {s.name: s for s in job.stages.all()}
    assert list(stages) == list(PIPELINE)
    assert all(s.status == StageStatus.DONE and s.duration_ms is not None and s.runs == 1 for s in stages.values())
    # Previews for everything a person can look at.
    for name in ("ingest", "detect", "stylize", "palette", "body", "rig", "export"):
        assert stages[name].preview and default_storage.exists(stages[name].preview), name
    # A real face was found by the face landmarker, with both eyes.
    assert stages["detect"].data["method"] == "landmarker"
    assert len(stages["detect"].data["eyes"]) == 2
    x, y, w, h = stages["detect"].data["face"]
    assert 200 < x + w / 2 < 400 and 120 < y + h / 2 < 260  # the astronaut's face, not the sky

    # The photo was read into parameters, each with a confidence, and the palette uses them.
    reading = stages["palette"].data["reading"]
    assert reading["hair_length"] == {"value": "short", "confidence": reading["hair_length"]["confidence"], "source": "photo"}
    assert reading["glasses"]["value"] is False
    assert stages["palette"].data["palette"]["hair"] == reading["hair_color"]["value"]
    assert stages["palette"].data["sources"]["skin"] == "photo"

    # The avatar's face is drawn from the parameters, not cut from the photo: the stored atlas's
    # face half is what draw_face makes of the stored parameters alone (JPEG noise aside).
    from generation.chibi.face import draw_face
    from generation.chibi.params import AvatarParams, face_layout

    params = AvatarParams(**stages["body"].data["params"])
    assert params.hair_color == reading["hair_color"]["value"] and params.hair_style == "short"
    drawn = draw_face(face_layout(params), skin=params.skin, hair=params.hair_color, glasses=params.glasses)
    stored = np.asarray(Image.open(io.BytesIO(read(stages["body"].files["atlas.jpg"]))).convert("RGB"))[:, :512]
    assert np.abs(stored.astype(int) - drawn.astype(int)).mean() < 3.0

    # The validator and three-vrm verdicts were recorded.
    report = stages["validate"].data
    assert report["validator"]["errors"] == 0 and report["validator"]["warnings"] == 0
    assert report["three"]["ok"] is True and report["three"]["metaVersion"] == "1"
    # hair locks swing: three-vrm built the spring joints (short hair: 4 locks of 3) and they moved
    assert report["three"]["springJoints"] == 4 * 3 and report["three"]["springMoved"] > 0.005
    assert set(report["three"]["humanBones"]) == set(BONE_NAMES)
    assert report["library"]["format"] == "1.0"

    # The raw upload (which may carry EXIF) is gone; the cleaned photo is kept.
    assert job.input_file == "" and not default_storage.exists(raw_upload)

    # The file itself, read independently.
    data = read(stages["export"].files["avatar.vrm"])
    assert len(data) == stages["export"].data["bytes"]
    gltf = read_glb_json(data)
    vrm = gltf["extensions"]["VRMC_vrm"]
    assert vrm["specVersion"] == "1.0"
    bones = set(vrm["humanoid"]["humanBones"])
    assert VRM_REQUIRED_BONES <= bones and {"chest", "neck"} <= bones
    presets = vrm["expressions"]["preset"]
    assert ISSUE_EXPRESSIONS <= set(presets)
    face_node = presets["aa"]["morphTargetBinds"][0]["node"]
    face_mesh = gltf["meshes"][gltf["nodes"][face_node]["mesh"]]
    assert face_mesh["extras"]["targetNames"] == list(EXPRESSIONS)
    for name in ISSUE_EXPRESSIONS:  # every expression moves its own morph target on the head
        bind = presets[name]["morphTargetBinds"]
        assert bind == [{"node": face_node, "index": EXPRESSIONS.index(name), "weight": 1.0}]
    meta = vrm["meta"]
    assert meta["name"] == "Astro" and meta["authors"] == [user.name]
    assert meta["avatarPermission"] == "everyone" and meta["commercialUsage"] == "corporation"
    assert meta["allowRedistribution"] is True and meta["modification"] == "allowModification"
    assert meta["creditNotation"] == "unnecessary" and meta["licenseUrl"] == "https://vrm.dev/licenses/1.0/"
    assert gltf["images"][meta["thumbnailImage"]]["mimeType"] in ("image/png", "image/jpeg")
    assert sorted(a["name"] for a in gltf["animations"]) == ["idle", "talk", "wave"]
    # T-pose rules: rest rotations identity, feet on the floor, arms along X.
    nodes = {n["name"]: n for n in gltf["nodes"]}
    assert all("rotation" not in nodes[b] for b in BONE_NAMES)
    assert abs(nodes["leftLowerArm"]["translation"][1]) < 1e-6 and nodes["leftLowerArm"]["translation"][0] > 0
    body_pos = gltf["accessors"][gltf["meshes"][0]["primitives"][0]["attributes"]["POSITION"]]
    assert abs(body_pos["min"][1]) < 1e-4

    # The avatar library got it, owned by the user, as VRM 1.0.
    avatar = Avatar.objects.get(pk=job.avatar_id)
    assert avatar.owner == user and avatar.vrm_version == "1.0" and avatar.name == "Astro"
    assert stages["register"].data["avatar_id"] == str(avatar.id)


@pytest.mark.django_db
def test_node_check_loads_the_result_in_three_vrm(user, face_jpeg, tmp_path):
    """The Node check on the stored file, independently of the validate stage's own record."""
    job = create_job(user, face_jpeg)
    assert run(job) == "succeeded"
    path = tmp_path / "a.vrm"
    path.write_bytes(read(job.stages.get(name="export").files["avatar.vrm"]))
    report = run_node_check(str(path), timeout=60)
    assert report["validator"]["errors"] == 0 and report["validator"]["warnings"] == 0
    three = report["three"]
    assert three["ok"] and three["skinnedMeshes"] == 3 and three["morphTargets"] == len(EXPRESSIONS)
    assert {e["name"] for e in three["expressions"]} >= ISSUE_EXPRESSIONS
    assert three["expressionsDriven"] == len(EXPRESSIONS)
    assert {a["name"] for a in three["animations"]} == {"idle", "talk", "wave"}


@pytest.mark.django_db
def test_drawing_without_a_face_falls_back_to_a_centred_crop(user, drawing_png):
    job = create_job(user, drawing_png, filename="house.png", style="pastel")
    assert run(job) == "succeeded"
    detect = job.stages.get(name="detect")
    assert detect.data["method"] == "fallback" and detect.data["face"] is None
    assert detect.note == "no_face_found"
    crop = detect.data["crop"]
    assert crop["cx"] == pytest.approx(240) and crop["size"] == pytest.approx(0.9 * 400)
    assert job.stages.get(name="validate").data["validator"]["warnings"] == 0
    assert Avatar.objects.filter(owner=user).count() == 1


@pytest.mark.django_db
def test_user_crop_reruns_on_the_cleaned_photo(studio_user, drawing_png):
    from generation import services

    first = create_job(studio_user, drawing_png, filename="house.png", name="House")
    assert run(first) == "succeeded"
    second = services.rerun_with_crop(user=studio_user, job_id=first.id, crop={"x": 0.3, "y": 0.4, "size": 0.5})
    assert second.source_job_id == first.id and second.options["crop"] == {"x": 0.3, "y": 0.4, "size": 0.5}
    assert second.options["name"] == "House"
    assert run(second) == "succeeded"
    detect = second.stages.get(name="detect").data
    assert detect["method"] == "manual"
    assert detect["crop"]["cx"] == pytest.approx(0.3 * 480) and detect["crop"]["size"] == pytest.approx(0.5 * 400)
    # A different texture makes a different file: a second avatar, not a duplicate.
    assert Avatar.objects.filter(owner=studio_user).count() == 2


@pytest.mark.django_db
def test_exif_orientation_is_applied_and_metadata_dropped(user, face_jpeg):
    from PIL import Image

    image = Image.open(io.BytesIO(face_jpeg))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the stored pixels must be turned 90° clockwise to view
    exif[0x010F] = "SecretCam"
    out = io.BytesIO()
    image.rotate(90, expand=True).save(out, "JPEG", exif=exif, quality=92)
    job = create_job(user, out.getvalue())
    assert run(job) == "succeeded"
    ingest = job.stages.get(name="ingest")
    assert (ingest.data["width"], ingest.data["height"]) == (640, 480)
    cleaned = Image.open(io.BytesIO(read(ingest.files["photo.jpg"])))
    assert cleaned.size == (640, 480) and not cleaned.getexif() and "icc_profile" not in cleaned.info
    detect = job.stages.get(name="detect").data
    assert detect["method"] == "landmarker"
    (ax, ay), (bx, by) = detect["eyes"]
    assert abs(by - ay) < 0.5 * abs(bx - ax)  # upright: the eyes side by side, not one over the other
