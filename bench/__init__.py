"""The benchmark: `python -m bench` measures the figures the issues name and prints JSON."""
