"""Signals other apps listen to, so characters never imports them (live sits above characters)."""
from django.dispatch import Signal

# Sent after the commit that hid characters, with `character_ids` (a list). A live session
# running one of them must stop: the character is no longer the owner's to show.
characters_hidden = Signal()
