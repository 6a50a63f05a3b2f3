"""A9: generative models (``generative.py``): the VAE's reparameterization trick, Gaussian
KL and reconstruction losses; the GAN's discriminator and non-saturating generator losses."""

from dlgrade.authoring import Assignment

from .exercises import EXERCISES
from .mutants import MUTANTS

ASSIGNMENT = Assignment(
    id="a9", title="Generative models: VAE and GAN losses", exercises=EXERCISES,
    mutants=MUTANTS, tracks=("numpy", "torch"),
)
