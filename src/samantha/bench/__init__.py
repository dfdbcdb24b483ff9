"""Benchmarks: commands that print figures (a table for people, JSON for machines)."""
