"""Test support: a fake OpenAI-compatible server and shared fixtures."""
