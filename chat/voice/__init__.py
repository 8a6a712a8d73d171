"""Voice conversations: a character answers the user's speech with speech.

Lives under chat because a voice turn IS a chat turn (chat.turns.run_turn, the same
conversation record); it asks inference.speech for STT/TTS/VAD and never talks to a model
server itself. The pipeline runs only in voice workers (`manage.py voice_worker`), never in
Daphne: the consumer in chat/voice/consumer.py only relays signaling (and the PCM fallback).
See docs/voice-protocol.md.
"""
