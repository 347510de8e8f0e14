"""Notebook context, execution, cache, assembly and rendering of a report."""
