"""The contract between notebooks and the report assembler: a figure or table is a notebook
output whose metadata, under OUTPUT_KEY, says its kind, name, caption and source."""

OUTPUT_KEY = "analysis"
