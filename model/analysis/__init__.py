"""Analysis of result tables: statistics across replications, figures and HTML reports.

Analysis reads run tables; it never runs models (``mtsim compare`` drives the
runner and then hands the tables to this package).
"""
