"""Stories: a short story written by a language model from a person's prompt (seed 004, 5.9).

    POST /api/story/generate          one story in one answer (api.py)
    /ws/story/                        the same story streamed token by token, with stop (consumers.py)
    /story/                           the page that streams one (views.py, entries/story.js)

Why inside `chat` and not a new top-level app: DESIGN.md's layout keeps the design card's apps and
puts language-model products for a signed-in person in `chat` (the turn engine, its rate limits,
its model slots and its WebSocket streaming). A story is such a product: it takes from the same
per-user rate-limit mechanism (chat.rate_limits), the same model slots and GPU-mode hold, and
streams over the same kind of socket; it stores nothing, so it needs no models of its own.

    writing.py    the prompt (length -> words and chapters, style, language), chapter parsing, word count
    services.py   `write_story`: limits, slot, the gateway's stream, the loop detector, the result
"""
