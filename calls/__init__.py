"""Calling a character: a 1:1 avatar call (rooms/) whose other participant is a character, run
by a voice worker (chat/voice/) as an aiortc peer. See docs/voice-protocol.md, "Character calls"."""
