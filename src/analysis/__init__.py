"""Reproducible analysis of ICE immigration-detainer data releases."""

__version__ = "0.1.0"
