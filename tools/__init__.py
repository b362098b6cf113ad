"""Maintenance scripts of the course (run through the Makefile)."""
