"""Scaling out beyond one process: pairs from table rows (rows.py) and Ray Data (ray_data.py, the
``degrade_stream[ray]`` extra). Nothing in the core package imports this package."""
