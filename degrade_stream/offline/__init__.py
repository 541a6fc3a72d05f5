"""What the offline writers share (the pairs folder and WebDataset shards of ``synthesize``, and Ray Data rows):
the plan of pairs and batches, each pair's record, and the fingerprint of its input file."""
