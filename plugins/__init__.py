"""Thin adapters for trainers (installed as degrade_stream.plugins): BasicSR and mmagic."""
