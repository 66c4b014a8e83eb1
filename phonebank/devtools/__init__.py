"""Tools for development, tests and benchmarks (not used by a running phone bank)."""
