"""In-process benchmark: stepline's local executor against the open-source ASL interpreters."""
