"""The experiment harness: running many models (runner), result stores, manifests, sweeps."""
