"""Outputs: the terminal report, HTML pages, CSV/Canvas/JSON tables, the atomic writer."""
