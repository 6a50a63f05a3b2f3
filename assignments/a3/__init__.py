"""A3: Layers, networks and backprop (work in progress: filled in by its exercises module)."""

from autograder.spec import Assignment

ASSIGNMENT = Assignment(id="a3", title="Layers, networks and backprop", exercises=())
