"""The documentation build: generated blocks in README.md and docs/ (``python -m docs.build``)."""
