"""The specs of the fundamentals course, one package per assignment (course.toml lists them)."""
