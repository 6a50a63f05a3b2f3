"""Exercise specs, one package per assignment (see ../shared/CURRICULUM.md)."""

#: Assignment packages, in course order; each defines ``ASSIGNMENT``.
ASSIGNMENT_IDS: tuple[str, ...] = ("a1", "a2", "a3", "a4", "a5")
