"""Normalize what a VRM 0.x / 1.0 / plain glTF file declares into one record.

Input is a checked GlbDocument (characters.avatars.formats.glb); output is a plain dict stored in Avatar.meta,
plus warnings (code + details; messages are rendered at display time so they follow the
viewer's language). Enum spellings are matched leniently because real exporters misspell them
("Explictly Licensed Person", "violentUssageName", "Redistribution Prohibited").

Record layout (keys are camelCase because the API returns the record as is):
    format            "0.x" | "1.0" | "gltf"
    specVersion       declared spec version string ("0.0", "1.0", "")
    exporter          exporterVersion (0.x) or asset.generator
    title, version, authors[], contact, references[], copyright
    license           {name, url, otherLicenseUrl, otherPermissionUrl}
    permissions       {avatarPermission, violentUsage, sexualUsage, commercialUsage,
                       politicalOrReligiousUsage, antisocialOrHateUsage, creditNotation,
                       redistribution, modification}: what the file declares; what it does not
                       declare (or spells in a way nobody recognizes) gets the conservative
                       default of the VRM 1.0 specification and of UniVRM's 0.x -> 1.0 meta
                       migration (PERMISSION_DEFAULTS). None only for plain glTF (no VRM at all).
    permissionsDefaulted  [keys of permissions that hold a default, not a declared value]
    licenseImplies    what the named license (0.x licenseName, e.g. CC_BY) implies, kept apart
                      from what the file declares: {license, url, creditNotation, redistribution,
                      modification, commercialUsage?} or None. UniVRM ignores licenseName when it
                      migrates, so the permissions never take their values from it.
    humanoid          {bones: {name: node}, count, required[], missingRequired[]}
    expressions       {presets[], custom[], unbound[], morphTargets[], arkit[], arkitViaPresets[],
                       flags: {name: {isBinary, overrideBlink, overrideLookAt, overrideMouth}}}
                      (0.x groups have only isBinary; their overrides are "none", as UniVRM migrates them)
    thumbnail         {image: int | None}
    stats             see compute_stats
"""
from __future__ import annotations

import re
from typing import IO, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .glb import GlbDocument, GlbError, _fail
from .vrm_structure import check_vrm0, check_vrm1

SUPPORTED_VERSIONS = ["0.x", "1.0"]

REQUIRED_BONES_1 = [
    "hips", "spine", "head",
    "leftUpperArm", "leftLowerArm", "leftHand", "rightUpperArm", "rightLowerArm", "rightHand",
    "leftUpperLeg", "leftLowerLeg", "leftFoot", "rightUpperLeg", "rightLowerLeg", "rightFoot",
]
REQUIRED_BONES_0 = REQUIRED_BONES_1[:2] + ["chest", "neck"] + REQUIRED_BONES_1[2:]
FINGER_BONE = re.compile(r"^(left|right)(Thumb|Index|Middle|Ring|Little)")

# One expression vocabulary (VRM 1.0 preset names).
PRESETS = [
    "aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight", "happy", "angry", "sad",
    "relaxed", "surprised", "lookUp", "lookDown", "lookLeft", "lookRight", "neutral",
]
VRM0_PRESETS = {
    "a": "aa", "i": "ih", "u": "ou", "e": "ee", "o": "oh", "blink": "blink", "blinkl": "blinkLeft",
    "blinkr": "blinkRight", "joy": "happy", "angry": "angry", "sorrow": "sad", "fun": "relaxed",
    "surprised": "surprised", "lookup": "lookUp", "lookdown": "lookDown", "lookleft": "lookLeft",
    "lookright": "lookRight", "neutral": "neutral",
}

ARKIT_52 = [
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft",
    "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight", "jawForward", "jawLeft", "jawRight", "jawOpen", "mouthClose",
    "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight",
    "mouthFrownLeft", "mouthFrownRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft",
    "mouthStretchRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft",
    "noseSneerRight", "tongueOut",
]
# ARKit shapes a renderer can approximate with a VRM preset when the model lacks the shape itself.
ARKIT_VIA_PRESET = {
    "eyeBlinkLeft": ("blinkLeft", "blink"), "eyeBlinkRight": ("blinkRight", "blink"),
    "jawOpen": ("aa",), "mouthFunnel": ("ou",), "mouthPucker": ("ou",),
    "mouthSmileLeft": ("happy",), "mouthSmileRight": ("happy",),
    "mouthFrownLeft": ("sad",), "mouthFrownRight": ("sad",),
    "browInnerUp": ("surprised",), "eyeWideLeft": ("surprised",), "eyeWideRight": ("surprised",),
    "browDownLeft": ("angry",), "browDownRight": ("angry",),
    "eyeLookUpLeft": ("lookUp",), "eyeLookUpRight": ("lookUp",),
    "eyeLookDownLeft": ("lookDown",), "eyeLookDownRight": ("lookDown",),
    "eyeLookOutLeft": ("lookLeft",), "eyeLookInRight": ("lookLeft",),
    "eyeLookInLeft": ("lookRight",), "eyeLookOutRight": ("lookRight",),
}

# Performance rank thresholds (upper bounds per rank, like VRChat's ranks for PC avatars).
RANK_ORDER = ["excellent", "good", "medium", "poor"]
RANK_THRESHOLDS: dict[str, dict[str, int]] = {
    "excellent": {"triangles": 32_000, "materials": 4, "textureMemoryBytes": 40 * 2**20, "bones": 75, "morphTargets": 64},
    "good": {"triangles": 70_000, "materials": 8, "textureMemoryBytes": 75 * 2**20, "bones": 150, "morphTargets": 128},
    "medium": {"triangles": 100_000, "materials": 16, "textureMemoryBytes": 110 * 2**20, "bones": 256, "morphTargets": 256},
}
RANK_STAT_LABELS = {
    "triangles": gettext_lazy("Triangles"),
    "materials": gettext_lazy("Materials"),
    "textureMemoryBytes": gettext_lazy("Texture memory"),
    "bones": gettext_lazy("Bones"),
    "morphTargets": gettext_lazy("Morph targets"),
}

MAX_STRING = 2000


def _key(value: Any) -> str:
    """Lenient enum key: lower case letters and digits only ("Explictly Licensed Person" ->
    "explictlylicensedperson")."""
    return re.sub(r"[^a-z0-9]", "", str(value).lower()) if value is not None else ""


def _text(value: Any, limit: int = MAX_STRING) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()[:limit]


def _texts(value: Any, limit: int = 20) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [t for t in (_text(v, 500) for v in value[:limit]) if t]


def _get(meta: dict[str, Any], *names: str) -> Any:
    """First present key among spellings, compared leniently (violentUssageName/violentUsageName)."""
    wanted = {_key(n) for n in names}
    for key, value in meta.items():
        if _key(key) in wanted:
            return value
    return None


def _allow(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    key = _key(value)
    if key in {"allow", "allowed", "true", "yes"}:
        return True
    if key in {"disallow", "disallowed", "false", "no", "prohibited"}:
        return False
    return None


def _permission_0(value: Any) -> str:
    key = _key(value)
    if key == "onlyauthor":
        return "onlyAuthor"
    # "ExplicitlyLicensedPerson", and the misspelling "Explictly Licensed Person" of real files.
    if key.startswith("expl") and key.endswith("licensedperson"):
        return "onlySeparatelyLicensedPerson"
    if key == "everyone":
        return "everyone"
    return "unknown"


def _permission_1(value: Any) -> str:
    key = _key(value)
    return {
        "onlyauthor": "onlyAuthor",
        "onlyseparatelylicensedperson": "onlySeparatelyLicensedPerson",
        "everyone": "everyone",
    }.get(key, "unknown")


CC_LICENSES = {
    # licenseName key: (canonical name, redistribution, modification, credit, noncommercial)
    "cc0": ("CC0", True, "allowModificationRedistribution", "unnecessary", False),
    "ccby": ("CC_BY", True, "allowModificationRedistribution", "required", False),
    "ccbync": ("CC_BY_NC", True, "allowModificationRedistribution", "required", True),
    "ccbysa": ("CC_BY_SA", True, "allowModificationRedistribution", "required", False),
    "ccbyncsa": ("CC_BY_NC_SA", True, "allowModificationRedistribution", "required", True),
    "ccbynd": ("CC_BY_ND", True, "prohibited", "required", False),
    "ccbyncnd": ("CC_BY_NC_ND", True, "prohibited", "required", True),
}
CC_URLS = {
    "CC0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC_BY": "https://creativecommons.org/licenses/by/4.0/",
    "CC_BY_NC": "https://creativecommons.org/licenses/by-nc/4.0/",
    "CC_BY_SA": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC_BY_NC_SA": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    "CC_BY_ND": "https://creativecommons.org/licenses/by-nd/4.0/",
    "CC_BY_NC_ND": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
}


def _safe_url(value: Any) -> str:
    """Keep only http(s) URLs, so a javascript: URL from a file never becomes a link."""
    text = _text(value, 1000)
    return text if re.match(r"^https?://", text, re.IGNORECASE) else ""


# What a VRM file that says nothing about a permission allows: the VRM 1.0 specification's
# defaults, which are also what UniVRM's MigrationVrmMeta starts from before reading a 0.x meta.
PERMISSION_DEFAULTS: dict[str, Any] = {
    "avatarPermission": "onlyAuthor",
    "violentUsage": False,
    "sexualUsage": False,
    "commercialUsage": "personalNonProfit",
    "politicalOrReligiousUsage": False,
    "antisocialOrHateUsage": False,
    "creditNotation": "required",
    "redistribution": False,
    "modification": "prohibited",
}


def _with_defaults(declared: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(permissions, keys that took the default): a None in `declared` means "not declared"."""
    permissions = {key: declared.get(key) if declared.get(key) is not None else default for key, default in PERMISSION_DEFAULTS.items()}
    return permissions, [key for key in PERMISSION_DEFAULTS if declared.get(key) is None]


def _license_implies(license_key: str) -> dict[str, Any] | None:
    """What a Creative Commons license named in a 0.x file means for the 1.0 permissions: shown
    to the user as such, never merged into what the file declares."""
    if license_key not in CC_LICENSES:
        return None
    name, redistribution, modification, credit, noncommercial = CC_LICENSES[license_key]
    implied: dict[str, Any] = {
        "license": name,
        "url": CC_URLS[name],
        "creditNotation": credit,
        "redistribution": redistribution,
        "modification": modification,
    }
    if noncommercial:
        implied["commercialUsage"] = "personalNonProfit"
    return implied


def _meta_0(vrm: dict[str, Any], doc: GlbDocument) -> dict[str, Any]:
    meta = vrm.get("meta") or {}  # vrm_structure refused a meta that is not an object
    license_key = _key(_get(meta, "licenseName"))
    commercial = _allow(_get(meta, "commercialUssageName", "commercialUsageName"))
    permission = _permission_0(_get(meta, "allowedUserName"))
    # VRM 0.x declares no political/antisocial use, credit, redistribution or modification:
    # those keep the defaults, as in UniVRM's migration (which ignores licenseName).
    permissions, defaulted = _with_defaults({
        "avatarPermission": None if permission == "unknown" else permission,
        "violentUsage": _allow(_get(meta, "violentUssageName", "violentUsageName")),
        "sexualUsage": _allow(_get(meta, "sexualUssageName", "sexualUsageName")),
        # 0.x "Allow" means individuals may profit; 0.x cannot say "companies too" (UniVRM: personalProfit).
        "commercialUsage": None if commercial is None else ("personalProfit" if commercial else "personalNonProfit"),
    })
    name = _text(_get(meta, "licenseName"), 64)
    if license_key in CC_LICENSES:
        name = CC_LICENSES[license_key][0]
    elif license_key == "redistributionprohibited":
        name = "Redistribution_Prohibited"
    elif license_key == "other":
        name = "Other"
    texture = meta.get("texture")
    image = None
    if texture is not None and texture != -1:
        image = doc.array("textures")[texture].get("source")  # index checked by vrm_structure
    return {
        "title": _text(_get(meta, "title"), 128),
        "version": _text(_get(meta, "version"), 64),
        "authors": _texts(_get(meta, "author")),
        "contact": _text(_get(meta, "contactInformation")),
        "references": _texts(_get(meta, "reference")),
        "copyright": "",
        "license": {
            "name": name,
            "url": "",  # a 0.x file names its license; the link a name implies is in licenseImplies
            "otherLicenseUrl": _safe_url(_get(meta, "otherLicenseUrl")),
            "otherPermissionUrl": _safe_url(_get(meta, "otherPermissionUrl")),
        },
        "permissions": permissions,
        "permissionsDefaulted": defaulted,
        "licenseImplies": _license_implies(license_key),
        "thumbnail": {"image": image},
    }


def _meta_1(vrmc: dict[str, Any], doc: GlbDocument) -> dict[str, Any]:
    meta = vrmc["meta"]  # vrm_structure checked it is an object
    commercial = _key(_get(meta, "commercialUsage"))
    modification = _key(_get(meta, "modification"))
    credit = _key(_get(meta, "creditNotation"))
    license_url = _safe_url(_get(meta, "licenseUrl"))
    permission = _permission_1(_get(meta, "avatarPermission"))
    permissions, defaulted = _with_defaults({
        "avatarPermission": None if permission == "unknown" else permission,
        "violentUsage": _allow(_get(meta, "allowExcessivelyViolentUsage")),
        "sexualUsage": _allow(_get(meta, "allowExcessivelySexualUsage")),
        "commercialUsage": {"personalnonprofit": "personalNonProfit", "personalprofit": "personalProfit", "corporation": "corporation"}.get(commercial),
        "politicalOrReligiousUsage": _allow(_get(meta, "allowPoliticalOrReligiousUsage")),
        "antisocialOrHateUsage": _allow(_get(meta, "allowAntisocialOrHateUsage")),
        "creditNotation": {"required": "required", "unnecessary": "unnecessary"}.get(credit),
        "redistribution": _allow(_get(meta, "allowRedistribution")),
        "modification": {
            "prohibited": "prohibited",
            "allowmodification": "allowModification",
            "allowmodificationredistribution": "allowModificationRedistribution",
        }.get(modification),
    })
    thumb = meta.get("thumbnailImage")  # index checked by vrm_structure
    return {
        "title": _text(_get(meta, "name"), 128),
        "version": _text(_get(meta, "version"), 64),
        "authors": _texts(_get(meta, "authors")),
        "contact": _text(_get(meta, "contactInformation")),
        "references": _texts(_get(meta, "references")),
        "copyright": _text(_get(meta, "copyrightInformation")),
        "license": {
            "name": "VRM Public License 1.0" if "vrm.dev/licenses/1.0" in license_url else "",
            "url": license_url,
            "otherLicenseUrl": _safe_url(_get(meta, "otherLicenseUrl")),
            "otherPermissionUrl": "",
        },
        "permissions": permissions,
        "permissionsDefaulted": defaulted,
        "licenseImplies": None,  # a 1.0 file declares every permission itself
        "thumbnail": {"image": thumb},
    }


def _bones_0(vrm: dict[str, Any]) -> dict[str, int]:
    """Bone name -> node; vrm_structure refused wrong types and nodes that do not exist."""
    items = vrm["humanoid"].get("humanBones") or []
    return {item["bone"][:64]: item["node"] for item in items}


def _bones_1(vrmc: dict[str, Any]) -> dict[str, int]:
    items = vrmc["humanoid"].get("humanBones") or {}
    return {str(name)[:64]: item["node"] for name, item in items.items()}


def _morph_target_names(doc: GlbDocument) -> list[str]:
    names: list[str] = []
    for mesh in doc.array("meshes"):
        sources = [mesh.get("extras")] + [p.get("extras") for p in mesh.get("primitives", [])]
        for extras in sources:
            if isinstance(extras, dict) and isinstance(extras.get("targetNames"), list):
                names.extend(_text(n, 128) for n in extras["targetNames"][:2000] if isinstance(n, str))
    seen: dict[str, None] = {}
    for n in names:
        if n:
            seen.setdefault(n, None)
    return list(seen)[:2000]


Flags = dict[str, dict[str, Any]]


def _flags(body: dict[str, Any]) -> dict[str, Any]:
    """isBinary and the three overrides, with the VRM 1.0 defaults (false, "none")."""
    return {
        "isBinary": body.get("isBinary") is True,
        "overrideBlink": body.get("overrideBlink") or "none",
        "overrideLookAt": body.get("overrideLookAt") or "none",
        "overrideMouth": body.get("overrideMouth") or "none",
    }


def _expressions_0(vrm: dict[str, Any]) -> tuple[list[str], list[str], list[str], Flags]:
    master = vrm.get("blendShapeMaster") or {}
    groups = master.get("blendShapeGroups") or []
    presets: list[str] = []
    custom: list[str] = []
    unbound: list[str] = []
    flags: Flags = {}
    for group in groups:
        preset = VRM0_PRESETS.get(_key(group.get("presetName")))
        name = preset or _text(group.get("name"), 64)
        if not name:
            continue
        (presets if preset else custom).append(name)
        # A 0.x group has isBinary only; UniVRM migrates it with every override "none".
        flags.setdefault(name, _flags({"isBinary": group.get("isBinary")}))
        has_binds = bool(group.get("binds")) or bool(group.get("materialValues"))
        if not has_binds and name != "neutral":
            unbound.append(name)
    return _unique(presets), _unique(custom), _unique(unbound), flags


def _expressions_1(vrmc: dict[str, Any]) -> tuple[list[str], list[str], list[str], Flags]:
    expressions = vrmc.get("expressions") or {}
    presets: list[str] = []
    custom: list[str] = []
    unbound: list[str] = []
    flags: Flags = {}
    for kind in ("preset", "custom"):
        group = expressions.get(kind) or {}
        for name, body in group.items():
            name = str(name)[:64]
            if kind == "preset" and name not in PRESETS:
                continue
            (presets if kind == "preset" else custom).append(name)
            flags.setdefault(name, _flags(body))
            binds = body.get("morphTargetBinds") or body.get("materialColorBinds") or body.get("textureTransformBinds")
            if not binds and name != "neutral":
                unbound.append(name)
    return _unique(presets), _unique(custom), _unique(unbound), flags


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _arkit_key(name: str) -> str:
    key = _key(name)
    # "eyeBlink_L" / "EyeBlinkL" style suffixes.
    if key.endswith("l") and not key.endswith("left") and not key.endswith("roll"):
        key = key[:-1] + "left"
    elif key.endswith("r") and not key.endswith("right") and not key.endswith("upper") and not key.endswith("lower"):
        key = key[:-1] + "right"
    return key


def arkit_support(names: list[str], presets: list[str]) -> tuple[list[str], list[str]]:
    """(ARKit names the model has as a shape or custom expression, ARKit names a preset can stand in for)."""
    keys = {_arkit_key(n) for n in names}
    # Also accept names with a prefix ("blendShape1.jawOpen", "Face.M_F00_jawOpen").
    suffixes = [_key(n) for n in names]
    direct = [
        a for a in ARKIT_52
        if _key(a) in keys or any(s.endswith(_key(a)) for s in suffixes)
    ]
    via = [a for a in ARKIT_52 if a not in direct and any(p in presets for p in ARKIT_VIA_PRESET.get(a, ()))]
    return direct, via


def compute_stats(
    doc: GlbDocument, fileobj: IO[bytes], image_sizes: dict[int, tuple[int, int]], skeleton_nodes: set[int] | None = None
) -> dict[str, Any]:
    """Counts a renderer pays for. Triangles count every node instance of a mesh. Bones are the
    skins' joints plus the humanoid bones' nodes (`skeleton_nodes`): a rigid model (parts parented
    to bones, no skin, like the debug robot) still has a skeleton to animate."""
    accessors = doc.array("accessors")
    meshes = doc.array("meshes")
    triangles_per_mesh: list[int] = []
    morph_targets = 0
    for mesh in meshes:
        tris = 0
        mesh_targets = 0
        for prim in mesh["primitives"]:
            mode = prim.get("mode", 4)
            source = prim.get("indices", prim["attributes"].get("POSITION"))
            n = accessors[source]["count"] if isinstance(source, int) else 0
            if mode == 4:
                tris += n // 3
            elif mode in (5, 6):
                tris += max(n - 2, 0)
            mesh_targets = max(mesh_targets, len(prim.get("targets", [])))
        triangles_per_mesh.append(tris)
        morph_targets += mesh_targets
    instances = [node["mesh"] for node in doc.array("nodes") if "mesh" in node]
    triangles = sum(triangles_per_mesh[m] for m in instances) if instances else sum(triangles_per_mesh)
    joints: set[int] = set(skeleton_nodes or ())
    for skin in doc.array("skins"):
        joints.update(skin["joints"])
    used_images = {t["source"] for t in doc.array("textures") if "source" in t}
    texture_memory = 0
    for index in used_images:
        w, h = image_sizes.get(index, (0, 0))
        texture_memory += w * h * 4 * 4 // 3  # RGBA8 with a full mip chain
    return {
        "fileSize": doc.file_size,
        "triangles": triangles,
        "materials": len(doc.array("materials")),
        "textures": len(doc.array("textures")),
        "images": len(doc.array("images")),
        "textureMemoryBytes": texture_memory,
        "bones": len(joints),
        "nodes": len(doc.array("nodes")),
        "meshes": len(meshes),
        "morphTargets": morph_targets,
    }


def performance_rank(stats: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The worst rank over all measured stats, and the rank of each stat."""
    per_stat: dict[str, str] = {}
    for stat in RANK_THRESHOLDS["excellent"]:
        value = stats.get(stat, 0)
        per_stat[stat] = next((r for r in RANK_ORDER[:-1] if value <= RANK_THRESHOLDS[r][stat]), "poor")
    overall = max(per_stat.values(), key=RANK_ORDER.index) if per_stat else "excellent"
    return overall, per_stat


def detect_format(doc: GlbDocument) -> tuple[str, str, dict[str, Any] | None]:
    """(format, declared spec version, the VRM extension object). Raises for unsupported VRM."""
    extensions = doc.gltf.get("extensions")
    extensions = extensions if isinstance(extensions, dict) else {}
    vrmc = extensions.get("VRMC_vrm")
    vrm0 = extensions.get("VRM")
    if vrmc is not None:
        if not isinstance(vrmc, dict):
            raise _fail("vrm_invalid", _("The VRMC_vrm extension is not an object."))
        spec = _text(vrmc.get("specVersion"), 32)
        if spec != "1.0":
            raise _fail(
                "vrm_version_unsupported",
                _("This file is VRM “%(found)s”. Supported versions are VRM 0.x and VRM 1.0; export it again as one of them.")
                % {"found": spec or "?"},
                found=spec,
                supported=SUPPORTED_VERSIONS,
            )
        return "1.0", spec, vrmc
    if vrm0 is not None:
        if not isinstance(vrm0, dict):
            raise _fail("vrm_invalid", _("The VRM extension is not an object."))
        spec = _text(vrm0.get("specVersion"), 32) or "0.0"
        if not spec.startswith("0"):
            raise _fail(
                "vrm_version_unsupported",
                _("This file is VRM “%(found)s”. Supported versions are VRM 0.x and VRM 1.0; export it again as one of them.")
                % {"found": spec},
                found=spec,
                supported=SUPPORTED_VERSIONS,
            )
        return "0.x", spec, vrm0
    other = [name for name in extensions if str(name).upper().startswith("VRM")]
    if other:
        raise _fail(
            "vrm_version_unsupported",
            _("This file uses %(ext)s, which is not supported. Supported versions are VRM 0.x and VRM 1.0.") % {"ext": str(other[0])[:40]},
            found=str(other[0])[:40],
            supported=SUPPORTED_VERSIONS,
        )
    return "gltf", "", None


def normalize(doc: GlbDocument, fileobj: IO[bytes], image_sizes: dict[int, tuple[int, int]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The normalized record and its warnings. Raises GlbError for files that cannot be used."""
    fmt, spec, ext = detect_format(doc)
    asset = doc.gltf.get("asset", {})
    generator = _text(asset.get("generator"), 128)
    warnings: list[dict[str, Any]] = []

    if fmt == "gltf":
        record: dict[str, Any] = {
            "title": "", "version": "", "authors": [], "contact": "", "references": [], "copyright": "",
            "license": {"name": "", "url": "", "otherLicenseUrl": "", "otherPermissionUrl": ""},
            "permissions": dict.fromkeys(
                ["violentUsage", "sexualUsage", "commercialUsage", "politicalOrReligiousUsage",
                 "antisocialOrHateUsage", "creditNotation", "redistribution", "modification"]
            ) | {"avatarPermission": "unknown"},
            "permissionsDefaulted": [],
            "licenseImplies": None,
            "thumbnail": {"image": None},
        }
        flags: Flags = {}
        bones: dict[str, int] = {}
        required: list[str] = []
        presets, custom, unbound = [], [], []
        exporter = generator
        warnings.append({"code": "not_vrm", "details": {}})
    else:
        assert ext is not None
        if not isinstance(ext.get("humanoid"), dict):
            raise _fail(
                "vrm_humanoid_missing",
                _("The file is a VRM but has no humanoid section, so no bone can move. Export it again with the humanoid (bone mapping) set up."),
            )
        if fmt == "0.x":
            check_vrm0(doc, ext)
            record = _meta_0(ext, doc)
            bones = _bones_0(ext)
            required = REQUIRED_BONES_0
            presets, custom, unbound, flags = _expressions_0(ext)
            exporter = _text(ext.get("exporterVersion"), 128) or generator
        else:
            check_vrm1(doc, ext)
            record = _meta_1(ext, doc)
            bones = _bones_1(ext)
            required = REQUIRED_BONES_1
            presets, custom, unbound, flags = _expressions_1(ext)
            exporter = generator
        if record["license"]["name"] == "" and not record["license"]["url"]:
            warnings.append({"code": "license_missing", "details": {}})

    missing = [b for b in required if b not in bones]
    if missing:
        warnings.append({"code": "bones_missing", "details": {"bones": missing}})
    if fmt != "gltf" and bones and not any(FINGER_BONE.match(b) for b in bones):
        warnings.append({"code": "no_finger_bones", "details": {}})
    if fmt != "gltf" and not presets and not custom:
        warnings.append({"code": "no_expressions", "details": {}})
    if unbound:
        warnings.append({"code": "expressions_unbound", "details": {"expressions": unbound[:40]}})

    morph_names = _morph_target_names(doc)
    # Only expressions that change something stand in for ARKit shapes: an unbound preset (the
    # expressions_unbound warning) moves nothing, so listing it as support would contradict it.
    direct, via = arkit_support(
        morph_names + [c for c in custom if c not in unbound], [p for p in presets if p not in unbound]
    )
    stats = compute_stats(doc, fileobj, image_sizes, skeleton_nodes=set(bones.values()))
    rank, per_stat = performance_rank(stats)
    record.update(
        format=fmt,
        specVersion=spec,
        exporter=exporter,
        generator=generator,
        humanoid={"bones": bones, "count": len(bones), "required": required, "missingRequired": missing},
        expressions={
            "presets": presets,
            "custom": custom[:200],
            "unbound": unbound[:200],
            "morphTargets": morph_names[:500],
            "arkit": direct,
            "arkitViaPresets": via,
            "flags": {name: flags[name] for name in [*presets, *custom[:200]] if name in flags},
        },
        stats=stats,
        rank=rank,
        rankByStat=per_stat,
    )
    return record, warnings


WARNING_MESSAGES = {
    "not_vrm": gettext_lazy(
        "This is a plain glTF model, not a VRM: it has no humanoid bones, expressions or license "
        "information, so it is shown as a static model. Export it as VRM to animate it."
    ),
    "license_missing": gettext_lazy("The file declares no license. Make sure you may use this avatar."),
    "bones_missing": gettext_lazy(
        "Some required humanoid bones are missing (%(bones)s). Those parts stay in their rest pose."
    ),
    "no_finger_bones": gettext_lazy("The avatar has no finger bones: hand tracking will not move its fingers."),
    "no_expressions": gettext_lazy("The avatar defines no expressions: it cannot blink, smile or lip-sync."),
    "expressions_unbound": gettext_lazy(
        "These expressions change nothing on the model (they bind no morph target or material): %(expressions)s."
    ),
    "thumbnail_invalid": gettext_lazy(
        "The file points at a thumbnail image that does not exist or cannot be read; a placeholder is shown."
    ),
    "thumbnail_too_large": gettext_lazy("The embedded thumbnail is too large to read; a placeholder is shown."),
    "external_images": gettext_lazy("Some images are stored outside the file and are ignored."),
}


def warning_message(warning: dict[str, Any]) -> str:
    """The translated message of a stored warning {code, details}."""
    template = WARNING_MESSAGES.get(warning.get("code", ""))
    if template is None:
        return str(warning.get("code", ""))
    details = warning.get("details") or {}
    values = {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in details.items()}
    try:
        return str(template) % values if values else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)


__all__ = [
    "ARKIT_52", "PRESETS", "REQUIRED_BONES_0", "REQUIRED_BONES_1", "RANK_THRESHOLDS", "SUPPORTED_VERSIONS",
    "GlbError", "normalize", "warning_message", "performance_rank", "compute_stats", "detect_format",
]
