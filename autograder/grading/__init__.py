"""Grading: cases and expectations, one submission (grader), a class (classroom), a
course's proof (validate)."""
