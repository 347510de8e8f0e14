"""Raw release files -> parquet tables and a manifest. `ingest()` is the entry point."""
