"""The speech stack: STT, TTS, VAD, visemes and a clause splitter, behind engine-neutral interfaces.

Engines are chosen by configuration (inference/speech/config.py); nothing here imports a GPL
program (Piper runs in its own process, espeak-ng is called as a binary).
"""
