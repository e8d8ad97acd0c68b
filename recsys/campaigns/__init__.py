"""Campaign work on a fitted pipeline: offer audiences and spreadsheet-safe exports."""
