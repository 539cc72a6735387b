"""Queues and topics self-hosted on the store (SQS- and SNS-shaped): see ADR 0021."""
