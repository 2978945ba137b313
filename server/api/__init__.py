"""The HTTP edge: thin routes over server.services."""
