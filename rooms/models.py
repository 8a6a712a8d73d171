"""Models of rooms."""
from django.db import models  # noqa: F401
