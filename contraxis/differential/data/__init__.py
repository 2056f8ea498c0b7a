"""Data files of the differential (see README.md here)."""
