"""callscope: calls and legs assembled from what a PBX records, and the answers built on them."""

__version__ = "0.1.0"
