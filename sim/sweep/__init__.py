"""Replicated parameter studies: designs, executors, a Parquet result store, reports."""
