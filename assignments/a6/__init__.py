"""A6: convolutional layers (``conv.py``): 2-D convolution, max pooling, average pooling."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS

ASSIGNMENT = Assignment(
    id="a6", title="Convolutional layers", exercises=EXERCISES, mutants=MUTANTS,
    tracks=("numpy", "torch"),
)
