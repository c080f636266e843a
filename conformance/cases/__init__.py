"""Neutral cases, one module per trigger: each exposes CASES."""
