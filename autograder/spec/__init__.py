"""What a course declares: exercises, assignments, mutants, scenarios and property families."""
