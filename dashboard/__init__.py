"""Streamlit glue for the recommendation dashboard: state, caches, charts, render helpers."""
