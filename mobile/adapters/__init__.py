"""Edges the app reaches through small interfaces so web mode and tests can replace them:
GPS, file locations, first-run enrollment over HTTP."""
