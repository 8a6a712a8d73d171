"""Admin for both features of characters (Django's autodiscovery imports this module)."""
from .avatars import admin as avatars_admin  # noqa: F401
from .personas import admin as personas_admin  # noqa: F401
