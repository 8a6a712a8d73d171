"""The "conditions of use" card built from an avatar's normalized meta (characters.avatars.formats.vrm_meta).

One list of rows serves the avatar page, the API and other features (calls, chat). Each row has
a stable `key`, a translated `label` and `value`, and a `state` for the icon:
"allowed", "denied", "required" (you must do something, e.g. credit), "limited", "unknown".
"""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def _yes_no(value: bool | None) -> tuple[str, str]:
    if value is True:
        return "allowed", _("Allowed")
    if value is False:
        return "denied", _("Not allowed")
    return "unknown", _("Not declared")


def license_card(meta: dict[str, Any]) -> list[dict[str, str]]:
    perms = meta.get("permissions") or {}
    rows: list[dict[str, str]] = []

    def add(key: str, label: str, state: str, value: str) -> None:
        rows.append({"key": key, "label": label, "state": state, "value": value})

    who = perms.get("avatarPermission", "unknown")
    add(
        "avatarPermission",
        _("Who may use it"),
        {"everyone": "allowed", "onlyAuthor": "limited", "onlySeparatelyLicensedPerson": "limited"}.get(who, "unknown"),
        {
            "everyone": _("Everyone"),
            "onlyAuthor": _("Only the author"),
            "onlySeparatelyLicensedPerson": _("Only people the author licensed explicitly"),
        }.get(who, _("Not declared")),
    )
    commercial = perms.get("commercialUsage")
    add(
        "commercialUsage",
        _("Commercial use"),
        {"corporation": "allowed", "personalProfit": "limited", "personalNonProfit": "denied"}.get(commercial, "unknown"),
        {
            "corporation": _("Allowed, also for companies"),
            "personalProfit": _("Individuals may earn money with it; companies may not"),
            "personalNonProfit": _("Non-commercial use only"),
        }.get(commercial, _("Not declared")),
    )
    for key, label in (
        ("violentUsage", _("Violent content")),
        ("sexualUsage", _("Sexual content")),
        ("politicalOrReligiousUsage", _("Political or religious use")),
        ("antisocialOrHateUsage", _("Antisocial or hateful use")),
    ):
        state, value = _yes_no(perms.get(key))
        add(key, label, state, value)
    credit = perms.get("creditNotation")
    add(
        "creditNotation",
        _("Credit"),
        {"required": "required", "unnecessary": "allowed"}.get(credit, "unknown"),
        {"required": _("Credit the author wherever it is shown"), "unnecessary": _("Not required")}.get(
            credit, _("Not declared")
        ),
    )
    state, value = _yes_no(perms.get("redistribution"))
    add("redistribution", _("Redistribution"), state, value)
    modification = perms.get("modification")
    add(
        "modification",
        _("Modification"),
        {"prohibited": "denied", "allowModification": "limited", "allowModificationRedistribution": "allowed"}.get(
            modification, "unknown"
        ),
        {
            "prohibited": _("Not allowed"),
            "allowModification": _("Allowed, but modified versions may not be redistributed"),
            "allowModificationRedistribution": _("Allowed, and modified versions may be redistributed"),
        }.get(modification, _("Not declared")),
    )
    return rows


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
