"""Server-side validation of actor tracker settings, and the actor slot limit."""
from __future__ import annotations

import pytest

from avatarforge.errors import AppError
from characters.avatars import actors, services
from characters.avatars.actor_settings import (
    SENSITIVITY_MAX,
    SETTINGS_SCHEMA,
    SettingsInvalid,
    apply_curve,
    default_settings,
    normalize_key,
    validate_settings,
)
from characters.models import Actor
from tests.characters.avatars.support import GODETTE, SPHERE


def errors_of(data, **kwargs) -> dict[str, str]:
    with pytest.raises(SettingsInvalid) as info:
        validate_settings(data, **kwargs)
    assert info.value.code == "actor_settings_invalid" and info.value.status == 400
    return info.value.details


def test_defaults():
    assert validate_settings(None) == default_settings()
    assert validate_settings({}) == default_settings()


def test_full_settings_are_normalized():
    out = validate_settings(
        {
            "faceTracking": False,
            "handTracking": True,
            "sensitivity": {"gaze": 0, "mouth": 0.75},
            "curves": {"eyeBlinkLeft": {"inMin": 0.1, "inMax": 0.4, "outMin": 0, "outMax": 1, "gamma": 2}},
            "shortcuts": [{"key": "shift+f5", "label": " Wink ", "weights": {"blinkLeft": 1}}],
        }
    )
    assert out["faceTracking"] is False and out["handTracking"] is True and out["bodyTracking"] is False
    assert out["sensitivity"] == {"gaze": 0.0, "eyebrows": 1.0, "mouth": 0.75}
    assert out["curves"]["eyeBlinkLeft"]["gamma"] == 2.0
    assert out["shortcuts"] == [{"key": "Shift+F5", "label": "Wink", "weights": {"blinkLeft": 1.0}}]


def test_sensitivity_boosts_up_to_the_documented_maximum():
    out = validate_settings({"sensitivity": {"gaze": 1.5, "eyebrows": SENSITIVITY_MAX, "mouth": 0}})
    assert out["sensitivity"] == {"gaze": 1.5, "eyebrows": 2.0, "mouth": 0.0}
    assert SENSITIVITY_MAX == 2.0
    assert SETTINGS_SCHEMA["properties"]["sensitivity"]["properties"]["mouth"]["maximum"] == SENSITIVITY_MAX
    errors = errors_of({"sensitivity": {"eyebrows": 2.5}})
    assert list(errors) == ["sensitivity.eyebrows"] and "2.0" in errors["sensitivity.eyebrows"]


def test_curve_example_from_the_seed():
    curve = {"inMin": 0.0, "inMax": 0.5, "outMin": 0.0, "outMax": 1.0, "gamma": 1.0}
    assert apply_curve(0.4, curve) == pytest.approx(0.8)
    assert apply_curve(0.9, curve) == 1.0
    assert apply_curve(-1, curve) == 0.0


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ("nope", "settings"),
        ({"unknown": 1}, "unknown"),
        ({"faceTracking": "yes"}, "faceTracking"),
        ({"sensitivity": {"gaze": 2.01}}, "sensitivity.gaze"),
        ({"sensitivity": {"mouth": -0.1}}, "sensitivity.mouth"),
        ({"sensitivity": {"gaze": float("nan")}}, "sensitivity.gaze"),
        ({"sensitivity": {"gaze": True}}, "sensitivity.gaze"),
        ({"sensitivity": {"nose": 1}}, "sensitivity.nose"),
        ({"sensitivity": []}, "sensitivity"),
        ({"curves": {"notAShape": {"inMin": 0, "inMax": 1, "outMin": 0, "outMax": 1}}}, "curves.notAShape"),
        ({"curves": {"jawOpen": {"inMin": 0.5, "inMax": 0.5, "outMin": 0, "outMax": 1}}}, "curves.jawOpen.inMax"),
        ({"curves": {"jawOpen": {"inMin": 0}}}, "curves.jawOpen"),
        ({"curves": {"jawOpen": {"inMin": 0, "inMax": 1, "outMin": 0, "outMax": 1, "gamma": 0}}}, "curves.jawOpen.gamma"),
        ({"curves": []}, "curves"),
        ({"shortcuts": {}}, "shortcuts"),
        ({"shortcuts": [{"key": "Ctrl+Enter", "weights": {"happy": 1}}]}, "shortcuts.0.key"),
        ({"shortcuts": [{"key": "1", "weights": {}}]}, "shortcuts.0.weights"),
        ({"shortcuts": [{"key": "1", "weights": {"smirk": 1}}]}, "shortcuts.0.weights.smirk"),
        ({"shortcuts": [{"key": "1", "weights": {"happy": 3}}]}, "shortcuts.0.weights.happy"),
        ({"shortcuts": [{"key": "1", "label": "x" * 41, "weights": {"happy": 1}}]}, "shortcuts.0.label"),
        ({"shortcuts": [{"key": "1", "weights": {"happy": 1}}, {"key": "1", "weights": {"sad": 1}}]}, "shortcuts.1.key"),
        ({"shortcuts": [{"key": str(i % 10), "weights": {"happy": 1}} for i in range(25)]}, "shortcuts"),
    ],
)
def test_invalid_settings(data, path):
    assert path in errors_of(data)


def test_custom_expressions_of_the_avatar_are_allowed():
    data = {"shortcuts": [{"key": "A", "weights": {"peace": 1}}]}
    assert "shortcuts.0.weights.peace" in errors_of(data)
    assert validate_settings(data, expressions=["peace"])["shortcuts"][0]["weights"] == {"peace": 1.0}


def test_key_normalization():
    assert normalize_key("shift+ctrl+a") == "Ctrl+Shift+A"
    assert normalize_key("numpad5") == "Numpad5"


@pytest.mark.django_db
def test_actor_slots_per_plan(make_user):
    for plan, slots in (("free", 1), ("pro", 2), ("studio", 6)):
        owner = make_user(plan=plan)
        avatar = services.create_avatar_from_file(owner=owner, file=SPHERE, filename="s.vrm")
        for i in range(slots):
            actors.create_actor(user=owner, name=f"Actor {i}", avatar_id=avatar.pk)
        with pytest.raises(AppError) as info:
            actors.create_actor(user=owner, name="One too many", avatar_id=avatar.pk)
        assert info.value.code == "actor_slots_exceeded" and info.value.status == 403
        assert Actor.objects.filter(owner=owner).count() == slots


@pytest.mark.django_db
def test_update_actor_rebinds_and_revalidates(user):
    godette = services.create_avatar_from_file(owner=user, file=GODETTE, filename="g.vrm")
    sphere = services.create_avatar_from_file(owner=user, file=SPHERE, filename="s.vrm")
    actor = actors.create_actor(
        user=user, name="A", avatar_id=godette.pk,
        settings_data={"shortcuts": [{"key": "1", "weights": {"happy": 1}}]},
    )
    updated = actors.update_actor(user=user, actor_id=actor.pk, avatar_id=sphere.pk)
    assert updated.avatar == sphere
    with pytest.raises(AppError) as info:
        actors.update_actor(user=user, actor_id=actor.pk, name="")
    assert info.value.code == "actor_name_required"
    # with the plan's one slot free again, a blank name is refused for what it is
    actors.delete_actor(user=user, actor_id=actor.pk)
    with pytest.raises(AppError) as info:
        actors.create_actor(user=user, name="  ", avatar_id=sphere.pk)
    assert info.value.code == "actor_name_required"
    assert not Actor.objects.filter(owner=user).exists()


def test_body_settings_mirror_and_part_sensitivities():
    out = validate_settings({"bodyTracking": True, "mirror": True, "bodySensitivity": 0.5, "handSensitivity": 2})
    assert out["bodyTracking"] is True and out["mirror"] is True
    assert out["bodySensitivity"] == 0.5 and out["handSensitivity"] == 2.0
    assert default_settings()["mirror"] is False and default_settings()["handSensitivity"] == 1.0


@pytest.mark.parametrize(
    ("data", "path"),
    [({"bodySensitivity": 2.5}, "bodySensitivity"), ({"handSensitivity": -0.1}, "handSensitivity"),
     ({"mirror": "yes"}, "mirror"), ({"bodySensitivity": "a lot"}, "bodySensitivity")],
)
def test_body_settings_out_of_range_are_refused_with_their_field(data, path):
    with pytest.raises(SettingsInvalid) as info:
        validate_settings(data)
    assert path in info.value.details
