"""Service integrations that Task states call (e.g. the HTTP Task, ``http:invoke``)."""
