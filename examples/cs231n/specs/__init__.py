"""The assignments of the CS231n example, one package each (see course.toml)."""
