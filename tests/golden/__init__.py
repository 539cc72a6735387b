"""Golden checkpoints that every later release must resume (see ``scenarios.py``)."""
