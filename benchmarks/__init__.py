"""Benchmarks: stepline against raw Celery on the same broker, worker settings and machine."""
