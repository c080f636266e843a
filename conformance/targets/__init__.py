"""Drivers, one module per cloud and trigger family: each exposes TARGETS."""
