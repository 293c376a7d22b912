"""One module per product kind, each the same small shape (see producers/kinds/base.py)."""
