"""Analysis of result tables: statistics across replications, figures and HTML reports.

Pure functions over tables and figures: analysis reads run tables and never runs a
model (``model.workflows`` runs the models, then hands the tables to this package).
It imports only the model core (docs/architecture.md, "Layers").
"""
