"""Courses and kits: found by path, loaded under a private name; the registry of the course
in use; templates."""
