"""The SYNTHETIC sample release."""
