"""A PyTorch-like tensor and autograd engine built from scratch on NumPy.

The public names mirror ``torch``: ``engine.tensor`` behaves like ``torch.tensor``,
``engine.no_grad`` like ``torch.no_grad``, and so on.  Chapter 1's scalar engine lives in
:mod:`engine.scalar` and is imported from there (``from engine.scalar import Value``).
"""

__version__ = "0.1.0"
