"""JSON Schemas of emaudit's machine-readable outputs (package data: ``audit-1.json``)."""
