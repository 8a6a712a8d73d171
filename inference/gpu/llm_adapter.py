"""The GPU worker's one contact with the LLM gateway and its slot limiter.

Today they live in chat/gateway.py and chat/concurrency.py; when they move to inference/llm/ and
inference/slots.py only the two imports below change. The worker needs exactly two things:
  - `warm_up(model)`: one token through the real gateway after a wake (first user pays nothing);
  - `replies_in_flight(model)`: streaming replies holding a slot of that model's server now,
    so a switch away from chat waits until they finish (never cuts a reply mid-stream).
"""
from __future__ import annotations


def warm_up(model: str) -> None:
    from chat import gateway

    gateway.complete(model=model, messages=[{"role": "user", "content": "Hi"}], max_tokens=1, temperature=0)


def replies_in_flight(model: str) -> int:
    from chat import concurrency, gateway

    return concurrency.stats(gateway.get_model(model).pool).in_flight
