"""characters holds two features: the avatar library (avatars.py: VRM avatars, actors) and
AI personas (personas.py, with reports.py for their moderation). Each module is owned by its feature."""
from .avatars import *  # noqa: F401,F403
from .personas import *  # noqa: F401,F403
from .reports import *  # noqa: F401,F403
