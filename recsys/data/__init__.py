"""Input data: the data contract (schema), reading CSV/Parquet, validation, Dataset, the sample
generator."""
