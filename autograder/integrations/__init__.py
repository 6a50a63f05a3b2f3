"""Integrations: nbgrader (source notebooks, gradebook) and Gradescope (bundle, results)."""
