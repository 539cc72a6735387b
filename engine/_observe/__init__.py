"""What operators see of executions: Prometheus metrics and AWS-shaped execution logs.

Both are built from facts the store has committed (`CommittedStep`), never from what a
step merely intended, so a rolled-back transaction is neither counted nor logged.
"""
