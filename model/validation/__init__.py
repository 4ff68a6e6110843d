"""Validation and calibration: docking the real model against classic results, fitting it to data.

Modules:
    reference: analytic references (discrete and continuous Bass, bond percolation on
        Erdős–Rényi graphs, the Watts 2002 cascade condition, window and cascade chance).
    checks: docking experiments run through ``model.market`` in its classic word-of-mouth
        configurations (Bass, independent cascade, linear threshold), and against NDlib.
    command: ``mtsim validate [--quick] [--out DIR]``.
    calibration: ``mtsim calibrate CALIBRATION.yaml``: fit scenario parameters to an
        observed time series with common random numbers and a bounded evaluation budget.

This package is harness code: it drives the model, the model never imports it.
"""
