"""The experiment harness: the runner over any Executor, designs, result stores, manifests.

Runs models but writes no result folder of its own; the workflows (``model.workflows``)
drive it (docs/architecture.md, "Layers").
"""
