"""Rendering results for people: tables and plots."""
