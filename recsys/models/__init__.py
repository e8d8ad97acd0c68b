"""Recommenders on CSR rows: vocabularies and the weighted matrix, top-k selection, user-kNN and
the alternatives."""
