"""Admin for both features of characters."""
from . import avatar_admin, persona_admin  # noqa: F401
