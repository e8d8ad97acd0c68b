"""Model building blocks (self-contained compiled kernels)."""
