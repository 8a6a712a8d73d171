"""The OpenAPI schema's error answers, documented once for every operation.

Every API failure has one body, {"code", "message", "details"} (avatarforge.errors), produced by
avatarforge.error_handlers for whatever raised it. Which of those failures an operation can answer
follows from how DRF runs it, not from the view: any request may be throttled (429) or carry a
bad token (401); a body can be malformed (400), of a type no parser takes (415) or too big (413);
a URL with an id can name nothing the caller may see (404); a write can be refused (403: CSRF,
permissions, plan limits). ErrorAutoSchema adds those answers, with the one Error component, to
each operation, so no view repeats them and a client generated from the schema knows every
status it can get. Views still declare the codes only their logic produces (409, 502, ...); those
get the Error body too when they were declared without one.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

ERROR_DESCRIPTIONS = {
    400: "Invalid request: the body or a query parameter is malformed or fails validation.",
    401: "Not signed in, or the token/session is invalid.",
    403: "Not allowed: permission, plan limit or CSRF check.",
    404: "Not found, or not yours to see.",
    405: "Method not allowed.",
    409: "Conflicts with the current state.",
    410: "Gone: closed or expired.",
    413: "The request body is too large.",
    415: "Unsupported Content-Type for the body.",
    429: "Too many requests; retry after `Retry-After` seconds.",
    502: "An upstream service answered badly.",
    503: "A service this needs is unavailable; try again shortly.",
}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class ErrorSerializer(serializers.Serializer):
    """The one error family of the API (avatarforge.errors.error_body)."""

    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `not_found`, `invalid`.")
    message = serializers.CharField(help_text="A sentence a person can act on (in the request's language).")
    details = serializers.JSONField(allow_null=True, help_text="More about the failure: field errors, limits; or null.")

    class Meta:
        ref_name = "Error"


class ErrorAutoSchema(AutoSchema):
    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        for status in self._error_statuses(operation):
            responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status]})
        error_ref = self.resolve_serializer(ErrorSerializer, "response").ref
        for code, response in responses.items():
            if code.isdigit() and int(code) >= 400 and not response.get("content"):
                response["content"] = {"application/json": {"schema": error_ref}}
                if int(code) == 429:
                    response.setdefault("headers", {})["Retry-After"] = {
                        "schema": {"type": "integer"}, "description": "Seconds to wait before retrying."}
        return operation

    def _error_statuses(self, operation: dict[str, Any]) -> list[int]:
        statuses = [429]  # the global throttles count every call
        if self.view.get_authenticators():  # a bad token or session answers 401 before the view runs
            statuses.append(401)
        parameters = operation.get("parameters", [])
        if operation.get("requestBody"):
            statuses += [400, 413, 415]
        elif any(p.get("in") == "query" for p in parameters):
            statuses.append(400)
        if self.method not in SAFE_METHODS or not self._allows_anyone():
            statuses.append(403)
        if any(p.get("in") == "path" for p in parameters):
            statuses.append(404)
        return statuses

    def _allows_anyone(self) -> bool:
        return all(isinstance(p, AllowAny) for p in self.view.get_permissions())
