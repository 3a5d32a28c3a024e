"""Developer tools (not part of the application)."""
