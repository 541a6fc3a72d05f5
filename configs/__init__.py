"""Shipped YAML configs (installed as degrade_stream.configs): chains/ and ddpm/ training recipes."""
