"""Decision support: regret across uncertain worlds, policy mix search, scenario discovery.

Robustness (regret), the search problem of ``mtsim optimize`` (decision variables,
Pareto fronts) and scenario discovery of ``mtsim discover`` (PRIM boxes), with their
figures and pages. The runs of ``mtsim optimize`` and ``mtsim compare --uncertain``
and their result folders are ``model.workflows.optimize`` and
``model.workflows.robustness``. The model core never imports this package.
"""
