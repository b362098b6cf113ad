"""Utilities under torch's names: ``engine.utils.checkpoint`` (gradient checkpointing) and
``engine.utils.data`` (datasets and loaders).  Import the submodule you need."""
