"""A faithful local Bot API server for tests, benchmarks and the demo; binds to loopback only."""
