"""Measures: frames in, frames out. No prose, no notebook context."""
