"""Decision support on top of the runner.

Robustness (regret), multi-objective search over policy mixes
(``mtsim optimize``) and scenario discovery (``mtsim discover``). Like
``model.analysis``, nothing here is imported by the model core.
"""
