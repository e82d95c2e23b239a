"""Performance benchmarks at platform scale (`make bench`); not part of `make test`."""
