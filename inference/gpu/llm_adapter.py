"""The GPU worker's one contact with the LLM gateway and its slot limiter (inference/llm,
inference/slots). The worker needs exactly two things:
  - `warm_up(model)`: one token through the real gateway after a wake (first user pays nothing);
  - `replies_in_flight(model)`: streaming replies holding a slot of that model's server now,
    so a switch away from chat waits until they finish (never cuts a reply mid-stream).
"""
from __future__ import annotations

from inference import llm, slots


def warm_up(model: str) -> None:
    llm.complete(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=1, temperature=0)


def replies_in_flight(model: str) -> int:
    return slots.stats(llm.get_model(model).pool).in_flight
