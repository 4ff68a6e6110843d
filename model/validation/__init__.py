"""Validation and calibration: docking the real model against classic results, fitting it to data.

Modules:
    reference: analytic references (discrete and continuous Bass, bond percolation on
        Erdős–Rényi graphs, the Watts 2002 cascade condition, window and cascade chance).
    checks: docking experiments run through ``model.market`` in its classic word-of-mouth
        configurations (Bass, independent cascade, linear threshold), and against NDlib.
    calibration: calibration files (observed series, fitted parameters, priors) and the
        distance between simulated and observed series.
    abc: the ABC-SMC fit (pyabc): the model as a simulator, samplers, the posterior.
    posterior: what a fit says: predictive bands, point estimate, hold-out baselines,
        the fitted scenario and the figures.
    baselines: carry-forward, logistic and Bass forecasts a hold-out fit is judged against.

The drivers that run them and write a result folder are ``model.workflows.validate``
(``mtsim validate``) and ``model.workflows.calibrate`` (``mtsim calibrate``). The model
never imports this package.
"""
