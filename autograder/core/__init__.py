"""Numerics, no I/O: the one comparison, the one gradient checker, naming mistakes."""
