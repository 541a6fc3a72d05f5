"""The ``degrade-stream`` command line."""
