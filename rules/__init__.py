"""Built-in rule modules (one per rule group)."""
