"""Streaming (HQ, LQ) pairs from any DataLoader: PairStream, the pair cache, torchdata nodes."""
from .cache import PairCache
from .pair_stream import PairStream
from .seeds import sample_seeds, variant_index

__all__ = ["PairCache", "PairStream", "sample_seeds", "variant_index"]
