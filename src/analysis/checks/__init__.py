"""Checks of a release against others: published claims and release comparison."""
