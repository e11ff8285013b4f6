"""cka-lab: break a real kind cluster the way the CKA exam does, and grade the repair."""

__version__ = "0.1.0"
