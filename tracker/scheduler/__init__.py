"""The scheduler process: one per installation, guarded by a lock, reporting a heartbeat."""
