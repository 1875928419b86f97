"""Torch datasets over a built corpus: clips, negative windows, keywords in context, the windows a model
sees, the shipped real speech a run uses, and the training set of a live-stream run."""
