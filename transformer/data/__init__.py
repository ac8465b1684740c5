"""Data for the translator.

synthetic.py   the built-in English→Spanish corpus, generated from a seed (no files)
"""

from .synthetic import describe, generate_pairs, make_splits

__all__ = ["describe", "generate_pairs", "make_splits"]
