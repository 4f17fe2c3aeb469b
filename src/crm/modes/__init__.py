"""How the same services are put together: all in one process (embedded) or one per process."""
