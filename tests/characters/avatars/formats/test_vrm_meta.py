"""Normalizing VRM 0.x / 1.0 / plain glTF into one record, with warnings."""
from __future__ import annotations

import io

import pytest

from characters.avatars.formats.glb import GlbError
from characters.avatars.formats.vrm_meta import arkit_support, performance_rank, warning_message
from characters.avatars.services import inspect_avatar_file
from tests.characters.avatars.support import GODETTE, ROBOT, SPHERE, minimal_gltf, modified


def inspect(data: bytes):
    return inspect_avatar_file(io.BytesIO(data))


def warning_codes(warnings) -> list[str]:
    return [w["code"] for w in warnings]


def test_godette_vrm0():
    record, warnings, thumbnail = inspect(GODETTE.read_bytes())
    assert record["format"] == "0.x"
    assert record["specVersion"] == "0.0"
    assert record["exporter"] == "saturday06_blender_vrm_exporter_experimental_1.10.0"
    assert record["title"] == "Low-Poly Godette"
    assert record["version"] == "0.21"
    assert record["authors"] == ["SirRichard94"]
    assert record["contact"] == "https://github.com/SirRichard94/low-poly-godette"
    assert record["references"] == ["Adapted to VRM by Lyuma"]
    assert record["license"]["name"] == "CC_BY"
    # What the file declares, and UniVRM's conservative defaults (its 0.x -> 1.0 meta migration)
    # for what VRM 0.x cannot declare; commercialUssageName "Allow" is personalProfit there.
    assert record["permissions"] == {
        "avatarPermission": "everyone", "violentUsage": True, "sexualUsage": True, "commercialUsage": "personalProfit",
        "politicalOrReligiousUsage": False, "antisocialOrHateUsage": False, "creditNotation": "required",
        "redistribution": False, "modification": "prohibited",
    }
    assert record["permissionsDefaulted"] == [
        "politicalOrReligiousUsage", "antisocialOrHateUsage", "creditNotation", "redistribution", "modification",
    ]
    assert record["license"]["url"] == ""  # the file names CC_BY but links nothing
    # What the license name implies is reported apart, labelled as such.
    assert record["licenseImplies"] == {
        "license": "CC_BY", "url": "https://creativecommons.org/licenses/by/4.0/", "creditNotation": "required",
        "redistribution": True, "modification": "allowModificationRedistribution",
    }
    flags = record["expressions"]["flags"]
    assert set(flags) == set(record["expressions"]["presets"])
    assert flags["blink"] == {"isBinary": False, "overrideBlink": "none", "overrideLookAt": "none", "overrideMouth": "none"}
    assert record["humanoid"]["count"] == 45
    assert record["humanoid"]["missingRequired"] == []
    assert len(record["humanoid"]["required"]) == 17
    expressions = record["expressions"]
    assert {"aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "happy", "angry", "sad", "relaxed",
            "lookUp", "lookDown", "lookLeft", "lookRight", "neutral"} == set(expressions["presets"])
    assert expressions["custom"] == []
    assert len(expressions["morphTargets"]) == 15 and "blink_left" in expressions["morphTargets"]
    assert "eyeBlinkLeft" in expressions["arkitViaPresets"] and "jawOpen" in expressions["arkitViaPresets"]
    stats = record["stats"]
    assert stats["fileSize"] == GODETTE.stat().st_size
    assert stats["materials"] == 4 and stats["textures"] == 5 and stats["images"] == 5
    assert stats["morphTargets"] == 15
    assert stats["triangles"] > 1000
    assert stats["textureMemoryBytes"] > 0
    assert record["rank"] == "excellent"
    assert record["thumbnail"]["image"] == 1  # meta.texture 4 -> textures[4].source 1
    assert thumbnail and thumbnail[:4] == b"RIFF" and thumbnail[8:12] == b"WEBP"
    assert warnings == []


def test_debug_robot_vrm1():
    record, warnings, thumbnail = inspect(ROBOT.read_bytes())
    assert record["format"] == "1.0"
    assert record["specVersion"] == "1.0"
    assert record["title"] == "VRM Animation Debug Robot"
    assert record["authors"] == ["@saturday06"]
    assert record["copyright"] == "2025 @saturday06"
    assert record["license"] == {
        "name": "VRM Public License 1.0", "url": "https://vrm.dev/licenses/1.0/", "otherLicenseUrl": "", "otherPermissionUrl": "",
    }
    assert record["permissions"] == {
        "avatarPermission": "everyone", "violentUsage": True, "sexualUsage": True, "commercialUsage": "corporation",
        "politicalOrReligiousUsage": True, "antisocialOrHateUsage": True, "creditNotation": "unnecessary",
        "redistribution": True, "modification": "allowModificationRedistribution",
    }
    assert record["humanoid"]["count"] == 53
    assert len(record["humanoid"]["required"]) == 15
    assert "chest" not in record["humanoid"]["required"]
    assert len(record["expressions"]["presets"]) == 18
    # 18 expressions bound to no morph target: a warning names them (neutral is fine empty).
    unbound = next(w for w in warnings if w["code"] == "expressions_unbound")
    assert "aa" in unbound["details"]["expressions"] and "neutral" not in unbound["details"]["expressions"]
    assert thumbnail is None and record["thumbnail"]["image"] is None
    # A rigid robot: no skin, but its 53 humanoid bones are bones the renderer animates.
    assert record["stats"]["bones"] == 53
    # None of its expressions changes anything, so none stands in for an ARKit shape.
    assert record["expressions"]["arkitViaPresets"] == []


def test_sphere_partial_bones():
    record, warnings, thumbnail = inspect(SPHERE.read_bytes())
    assert record["format"] == "0.x"
    assert record["exporter"] == "UniVRM-0.53.0"
    assert record["humanoid"]["count"] == 22
    assert record["license"]["name"] == "CC0"
    assert record["permissions"]["creditNotation"] == "required"  # not declared: the default
    assert record["licenseImplies"]["creditNotation"] == "unnecessary"  # what CC0 would mean
    assert set(warning_codes(warnings)) == {"no_finger_bones", "no_expressions"}
    assert thumbnail is None


def test_missing_required_bones_is_a_warning():
    def drop(g):
        bones = g["extensions"]["VRM"]["humanoid"]["humanBones"]
        g["extensions"]["VRM"]["humanoid"]["humanBones"] = [b for b in bones if b["bone"] not in ("neck", "leftFoot")]

    record, warnings, _ = inspect(modified(SPHERE, drop))
    assert record["humanoid"]["missingRequired"] == ["neck", "leftFoot"]
    warning = next(w for w in warnings if w["code"] == "bones_missing")
    assert warning["details"]["bones"] == ["neck", "leftFoot"]
    assert "neck, leftFoot" in warning_message(warning)


def test_vrm1_missing_bones():
    def drop(g):
        bones = g["extensions"]["VRMC_vrm"]["humanoid"]["humanBones"]
        del bones["leftHand"]  # (a bone pointing nowhere is refused: test_vrm_structure)

    record, warnings, _ = inspect(modified(ROBOT, drop))
    assert record["humanoid"]["missingRequired"] == ["leftHand"]
    assert next(w for w in warnings if w["code"] == "bones_missing")["details"] == {"bones": ["leftHand"]}


def test_missing_humanoid_is_refused():
    def drop(g):
        del g["extensions"]["VRM"]["humanoid"]

    with pytest.raises(GlbError) as info:
        inspect(modified(SPHERE, drop))
    assert info.value.code == "vrm_humanoid_missing"


@pytest.mark.parametrize("version", ["0.0", "1.0-beta", "2.0"])
def test_vrm1_versions(version):
    data = modified(ROBOT, lambda g: g["extensions"]["VRMC_vrm"].update(specVersion=version))
    if version == "1.0":
        return
    with pytest.raises(GlbError) as info:
        inspect(data)
    assert info.value.code == "vrm_version_unsupported"
    assert info.value.details["supported"] == ["0.x", "1.0"]
    assert "0.x" in info.value.message and "1.0" in info.value.message


def test_vrm0_with_a_future_spec_version_is_refused():
    with pytest.raises(GlbError) as info:
        inspect(modified(SPHERE, lambda g: g["extensions"]["VRM"].update(specVersion="2.0")))
    assert info.value.code == "vrm_version_unsupported"


def test_unknown_vrm_extension_is_refused():
    def change(g):
        g["extensions"]["VRMX_future"] = g["extensions"].pop("VRM")

    with pytest.raises(GlbError) as info:
        inspect(modified(SPHERE, change))
    assert info.value.code == "vrm_version_unsupported"


def test_vrm_extension_not_an_object():
    with pytest.raises(GlbError) as info:
        inspect(modified(SPHERE, lambda g: g["extensions"].update(VRM=[1])))
    assert info.value.code == "vrm_invalid"


# A thumbnail index out of range is refused (vrm_meta_invalid): test_vrm_structure.


def test_thumbnail_that_is_not_an_image():
    # Point the thumbnail at image 0 whose bytes are a vertex buffer, not a picture.
    def change(g):
        g["extensions"]["VRMC_vrm"]["meta"]["thumbnailImage"] = 0
        g["images"][0]["bufferView"] = 0

    _, warnings, thumbnail = inspect(modified(ROBOT, change))
    assert thumbnail is None and "thumbnail_invalid" in warning_codes(warnings)


def test_vrm1_thumbnail_is_extracted():
    data = modified(ROBOT, lambda g: g["extensions"]["VRMC_vrm"]["meta"].update(thumbnailImage=2))
    record, warnings, thumbnail = inspect(data)
    assert record["thumbnail"]["image"] == 2
    assert thumbnail[8:12] == b"WEBP"
    assert "thumbnail_invalid" not in warning_codes(warnings)


def test_lenient_enum_spellings():
    def change(g):
        meta = g["extensions"]["VRM"]["meta"]
        meta["allowedUserName"] = "Explictly Licensed Person"
        del meta["violentUssageName"]
        meta["violentUsageName"] = "Disallow"
        meta["sexualUssageName"] = "disallow"
        meta["commercialUssageName"] = "Disallow"
        meta["licenseName"] = "Redistribution Prohibited"

    record, warnings, _ = inspect(modified(SPHERE, change))
    perms = record["permissions"]
    assert perms["avatarPermission"] == "onlySeparatelyLicensedPerson"
    assert perms["violentUsage"] is False and perms["sexualUsage"] is False
    assert perms["commercialUsage"] == "personalNonProfit"
    assert perms["redistribution"] is False
    assert record["license"]["name"] == "Redistribution_Prohibited"


def test_vrm0_only_author_and_noncommercial_cc():
    def change(g):
        meta = g["extensions"]["VRM"]["meta"]
        meta["allowedUserName"] = "OnlyAuthor"
        meta["licenseName"] = "CC_BY_NC_ND"
        meta["otherLicenseUrl"] = "javascript:alert(1)"

    record, _, _ = inspect(modified(SPHERE, change))
    perms = record["permissions"]
    assert perms["avatarPermission"] == "onlyAuthor"
    assert perms["commercialUsage"] == "personalProfit"  # what the file declares ("Allow")...
    assert record["licenseImplies"]["commercialUsage"] == "personalNonProfit"  # ...and, apart, what NC implies
    assert record["licenseImplies"]["modification"] == "prohibited"
    assert perms["modification"] == "prohibited"  # not declared: the default
    assert record["license"]["otherLicenseUrl"] == ""  # only http(s) links are kept


def test_vrm1_enum_values():
    def change(g):
        meta = g["extensions"]["VRMC_vrm"]["meta"]
        meta.update(avatarPermission="onlyAuthor", commercialUsage="personalProfit", creditNotation="required",
                    allowRedistribution=False, modification="prohibited", allowPoliticalOrReligiousUsage=False)

    record, _, _ = inspect(modified(ROBOT, change))
    perms = record["permissions"]
    assert perms["avatarPermission"] == "onlyAuthor"
    assert perms["commercialUsage"] == "personalProfit"
    assert perms["creditNotation"] == "required"
    assert perms["redistribution"] is False
    assert perms["modification"] == "prohibited"
    assert perms["politicalOrReligiousUsage"] is False


def test_vrm1_custom_expressions_and_arkit_names():
    def change(g):
        # The robot has no morph targets: bound to a colour of its first material instead.
        bound = {"materialColorBinds": [{"material": 0, "type": "color", "targetValue": [1, 0, 0, 1]}]}
        g["extensions"]["VRMC_vrm"]["expressions"]["custom"] = {"jawOpen": bound, "cheekPuff": bound, "wink": {}, "mouthClose": {}}

    record, _, _ = inspect(modified(ROBOT, change))
    assert record["expressions"]["custom"] == ["jawOpen", "cheekPuff", "wink", "mouthClose"]
    assert {"jawOpen", "cheekPuff"} <= set(record["expressions"]["arkit"])
    assert "mouthClose" not in record["expressions"]["arkit"]  # bound to nothing: it shows nothing


def test_arkit_matching_is_lenient():
    direct, via = arkit_support(["eyeBlink_L", "EyeBlinkRight", "blendShape1.mouthSmileLeft", "HideBlush"], ["aa"])
    assert direct == ["eyeBlinkLeft", "eyeBlinkRight", "mouthSmileLeft"]
    assert via == ["jawOpen"]


def test_plain_gltf():
    record, warnings, thumbnail = inspect(minimal_gltf())
    assert record["format"] == "gltf"
    assert record["permissions"]["avatarPermission"] == "unknown"
    assert record["stats"]["triangles"] == 1
    assert "not_vrm" in warning_codes(warnings)
    assert thumbnail is None


def test_vrm_without_license_warns():
    def change(g):
        meta = g["extensions"]["VRM"]["meta"]
        meta.pop("licenseName")

    _, warnings, _ = inspect(modified(SPHERE, change))
    assert "license_missing" in warning_codes(warnings)


def test_performance_rank_is_the_worst_stat():
    rank, per_stat = performance_rank({"triangles": 1000, "materials": 9, "textureMemoryBytes": 0, "bones": 10, "morphTargets": 0})
    assert rank == "medium" and per_stat["materials"] == "medium" and per_stat["triangles"] == "excellent"
    rank, _ = performance_rank({"triangles": 10**6, "materials": 1, "textureMemoryBytes": 0, "bones": 1, "morphTargets": 0})
    assert rank == "poor"


def test_meta_strings_are_bounded():
    def change(g):
        meta = g["extensions"]["VRM"]["meta"]
        meta["title"] = "x" * 10_000
        meta["reference"] = "r" * 10_000

    record, _, _ = inspect(modified(SPHERE, change))
    assert len(record["title"]) == 128
    assert record["references"] == ["r" * 500]


def test_vrm1_undeclared_permissions_take_the_conservative_defaults():
    keys = ["avatarPermission", "allowExcessivelyViolentUsage", "commercialUsage", "creditNotation", "allowRedistribution", "modification"]

    def change(g):
        meta = g["extensions"]["VRMC_vrm"]["meta"]
        for key in keys:
            meta.pop(key)
        meta.pop("allowExcessivelySexualUsage")

    record, _, _ = inspect(modified(ROBOT, change))
    perms = record["permissions"]
    assert (perms["avatarPermission"], perms["violentUsage"], perms["commercialUsage"], perms["creditNotation"],
            perms["redistribution"], perms["modification"], perms["sexualUsage"]) == (
        "onlyAuthor", False, "personalNonProfit", "required", False, "prohibited", False)
    assert perms["politicalOrReligiousUsage"] is True  # declared
    assert record["permissionsDefaulted"] == [
        "avatarPermission", "violentUsage", "sexualUsage", "commercialUsage", "creditNotation", "redistribution", "modification",
    ]
    assert record["licenseImplies"] is None


def test_expression_flags_are_kept():
    """Two files that differ only in isBinary / override flags give different records (VRM 1.0
    spec sample values), so the renderer can honour them."""
    def flagged(g):
        preset = g["extensions"]["VRMC_vrm"]["expressions"]["preset"]
        preset["blink"].update(isBinary=True)
        preset["happy"].update(overrideBlink="block", overrideLookAt="blend", overrideMouth="block")

    plain, _, _ = inspect(ROBOT.read_bytes())
    changed, _, _ = inspect(modified(ROBOT, flagged))
    assert plain["expressions"]["flags"]["blink"]["isBinary"] is False
    assert changed["expressions"]["flags"]["blink"] == {"isBinary": True, "overrideBlink": "none", "overrideLookAt": "none", "overrideMouth": "none"}
    assert changed["expressions"]["flags"]["happy"] == {"isBinary": False, "overrideBlink": "block", "overrideLookAt": "blend", "overrideMouth": "block"}
    assert plain != changed


def test_vrm0_is_binary_is_kept():
    def flagged(g):
        g["extensions"]["VRM"]["blendShapeMaster"]["blendShapeGroups"][1]["isBinary"] = True  # "A"

    record, _, _ = inspect(modified(GODETTE, flagged))
    assert record["expressions"]["flags"]["aa"]["isBinary"] is True
    assert record["expressions"]["flags"]["ih"]["isBinary"] is False
