"""Workflows: everything that runs models and writes a result folder.

The layer between the experiment harness (runner, store, designs) and the user
interfaces (commands, viz): run with replications, compare, sweep, optimize,
robustness, calibrate. ``analysis`` only reads tables; ``decision`` and
``validation`` keep their own logic and call this layer to run models
(docs/architecture.md, "Layers").
"""
