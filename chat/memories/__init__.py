"""Memories across conversations: short facts a character keeps about a user.

    extraction.py  the LLM call (through inference.llm, JSON by schema) that reads new messages
                   of a conversation and returns facts about the user
    retrieval.py   the prompt block: the facts most relevant to the user's newest message, within
                   the prompt's memory share (inference.embeddings + a lexical score)
    selectors.py   reads (ownership built in)
    services.py    writes: extraction's storing (dedup, cap), edit, delete, forget all, on/off
    api.py, serializers.py, views.py  REST and the page "What <character> remembers about you"

When: a conversation left idle for MEMORY_IDLE_SECONDS (chat.turns schedules the Celery task
chat.extract_memories after each stored reply; the task waits out the idle time). Memory off for a
(user, character) deletes every fact, and what is said while it is off is marked read and never
extracted, also after it is turned on again.
"""
