"""The rules that choose each report section's titles and sentences, unit-tested."""
