"""emaudit: web-marketing audit toolkit."""

__version__ = "0.1.0"
