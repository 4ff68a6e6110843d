"""One module per mechanism of docs/domain.md (Mechanisms).

Each a set of pure, vectorised functions over arrays.

Order of use in a step is set by ``model.market.MarketModel`` (see its docstring).
"""
