"""A7: recurrent layers (``rnn.py``): RNN step and sequence (BPTT), LSTM step, GRU step,
word embedding."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS

ASSIGNMENT = Assignment(
    id="a7", title="Recurrent layers", exercises=EXERCISES, mutants=MUTANTS,
    tracks=("numpy", "torch"),
)
