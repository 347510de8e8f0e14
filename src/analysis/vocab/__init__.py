"""What ICE's columns and values mean: canonical columns, table kinds, definitions, fiscal years,
geography, conviction categories. No file I/O beyond the reference tables."""
