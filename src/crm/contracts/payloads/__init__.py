"""One pydantic model per event type, grouped by the topic that carries it."""
