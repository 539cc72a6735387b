"""The durable path's floor: stepline vs a checkpointed raw-Celery chain and DBOS (issue 12).

``python -m benchmarks.durable``; the method is in benchmarks/README.md.
"""
