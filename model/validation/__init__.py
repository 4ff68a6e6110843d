"""Validation and calibration: docking the real model against classic results, fitting it to data.

Modules:
    reference: analytic references (discrete and continuous Bass, bond percolation on
        Erdős–Rényi graphs, the Watts 2002 cascade condition, window and cascade chance).
    checks: docking experiments run through ``model.market`` in its classic word-of-mouth
        configurations (Bass, independent cascade, linear threshold), and against NDlib.
    calibration: ``mtsim calibrate CALIBRATION.yaml``: ABC-SMC (pyabc) fit of scenario
        parameters to several observed series at once.

``mtsim validate`` and ``mtsim calibrate`` are model/commands/validate.py and calibrate.py.

This package is harness code: it drives the model, the model never imports it.
"""
