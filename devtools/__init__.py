"""Tools for tests, benchmarks and the demo: a report generator and a simulated portal."""
