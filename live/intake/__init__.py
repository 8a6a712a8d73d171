"""Stream-chat intake: one class per platform, all producing `StreamEvent`s (see base.py)."""
