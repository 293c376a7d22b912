"""cell35: turns cells' session content into media and a static site."""

__version__ = "0.1.0"
