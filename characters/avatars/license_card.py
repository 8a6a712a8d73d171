"""The "conditions of use" card built from an avatar's normalized meta (characters.avatars.formats.vrm_meta).

One list of rows serves the avatar page, the API and other features (calls, chat). Each row has
a stable `key`, a translated `label` and `value`, and a `state` for the icon:
"allowed", "denied", "required" (you must do something, e.g. credit), "limited", "unknown".
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def _rows() -> list[tuple[str, str, dict[str, tuple[str, str]]]]:
    """(key, label, {code: (state, value)}) per permission, in the active language. A code is the
    file's value (`true`/`false` for the yes/no permissions); `unknown` is "not declared"."""
    yes_no = {"true": ("allowed", _("Allowed")), "false": ("denied", _("Not allowed"))}
    rows = [
        ("avatarPermission", _("Who may use it"), {
            "everyone": ("allowed", _("Everyone")),
            "onlyAuthor": ("limited", _("Only the author")),
            "onlySeparatelyLicensedPerson": ("limited", _("Only people the author licensed explicitly")),
        }),
        ("commercialUsage", _("Commercial use"), {
            "corporation": ("allowed", _("Allowed, also for companies")),
            "personalProfit": ("limited", _("Individuals may earn money with it; companies may not")),
            "personalNonProfit": ("denied", _("Non-commercial use only")),
        }),
        ("violentUsage", _("Violent content"), yes_no),
        ("sexualUsage", _("Sexual content"), yes_no),
        ("politicalOrReligiousUsage", _("Political or religious use"), yes_no),
        ("antisocialOrHateUsage", _("Antisocial or hateful use"), yes_no),
        ("creditNotation", _("Credit"), {
            "required": ("required", _("Credit the author wherever it is shown")),
            "unnecessary": ("allowed", _("Not required")),
        }),
        ("redistribution", _("Redistribution"), yes_no),
        ("modification", _("Modification"), {
            "prohibited": ("denied", _("Not allowed")),
            "allowModification": ("limited", _("Allowed, but modified versions may not be redistributed")),
            "allowModificationRedistribution": ("allowed", _("Allowed, and modified versions may be redistributed")),
        }),
    ]
    return [(key, label, {**values, "unknown": ("unknown", _("Not declared"))}) for key, label, values in rows]


def _code(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else "unknown"


def _defaulted(value: str) -> str:
    return _("%(value)s (not declared by the file; the default)") % {"value": value}


def license_card(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per permission. `declared` is False where the file says nothing and the row shows
    the conservative default (vrm_meta.PERMISSION_DEFAULTS), so a reader can tell the two apart.
    `code` is the permission's value: a page in another language (the other side of a call)
    shows the row in its own words from license_card_text()."""
    perms = meta.get("permissions") or {}
    defaulted = set(meta.get("permissionsDefaulted") or [])
    rows: list[dict[str, Any]] = []
    for key, label, values in _rows():
        code = _code(perms.get(key))
        code = code if code in values else "unknown"
        state, value = values[code]
        declared = key not in defaulted
        rows.append({"key": key, "label": label, "state": state, "value": value if declared else _defaulted(value),
                     "declared": declared, "code": code})
    return rows


def license_card_text() -> dict[str, Any]:
    """Every row's label and values in the active language, by key and code, and the wording of
    a default (`{value}` marks where the value goes): what the call page needs to show the other
    person's card in its own language."""
    return {
        "rows": {key: {"label": label, "values": {code: value for code, (_state, value) in values.items()}}
                 for key, label, values in _rows()},
        "defaulted": _defaulted("{value}"),
    }


IMPLIED_KEYS = ("commercialUsage", "creditNotation", "redistribution", "modification")


def license_implies(meta: dict[str, Any]) -> dict[str, Any] | None:
    """What the license the file names (e.g. CC_BY in a VRM 0.x file) would imply, as rows, kept
    apart from what the file declares and labelled so: the reference (UniVRM) does not derive
    permissions from a license name, and neither do we. None when the file names no such license."""
    implied = meta.get("licenseImplies")
    if not isinstance(implied, dict):
        return None
    rows = [row | {"declared": False} for row in license_card({"permissions": implied}) if row["key"] in implied]
    return {
        "license": implied.get("license", ""),
        "url": implied.get("url", ""),
        "label": _("What the license %(name)s implies (not declared in the file's permissions)") % {"name": implied.get("license", "")},
        "rows": rows,
    }


def license_summary(meta: dict[str, Any]) -> dict[str, Any]:
    """The license name and links shown above the card."""
    lic = meta.get("license") or {}
    return {
        "name": lic.get("name") or "",
        "url": lic.get("url") or "",
        "otherLicenseUrl": lic.get("otherLicenseUrl") or "",
        "otherPermissionUrl": lic.get("otherPermissionUrl") or "",
        "authors": meta.get("authors") or [],
        "copyright": meta.get("copyright") or "",
        "contact": meta.get("contact") or "",
        "references": meta.get("references") or [],
    }
