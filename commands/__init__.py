"""Typer subcommands, one module each (thin: options in, one core call, render out)."""
