"""The two backends of `engine.Client`: in-process (local) and SQL + Celery (durable)."""
