"""EventBridge-compatible building blocks for event-driven state machines (event patterns)."""
