"""Policies applied to grades: deadlines and late penalties."""
