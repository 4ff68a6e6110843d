"""Consumer, Merchant and KOL: Mesa agents that are thin views over the state arrays.

An agent holds only its row index; every attribute reads (and writes) the
model's arrays, so ``consumer.trust_domestic`` is
``model.consumers.trust_domestic[consumer.index]``. Agents take no part in the
vectorised step; they are for inspection, the browser view and user code. Above
``simulation.space_max_consumers`` the Consumer objects are created on first use
(``model.consumer_agents``, ``model.agents``), like the Mesa space (docs/scale.md).
"""

from __future__ import annotations

import mesa
from mesa.discrete_space import FixedAgent
from mesa.discrete_space.cell_agent import FixedCell


def _view(array_name: str, field: str, cast=None, doc: str = ""):
    """Return a property reading/writing ``model.<array_name>.<field>[self.index]``."""

    def getter(self):
        value = getattr(getattr(self.model, array_name), field)[self.index]
        return cast(value) if cast else value.item()

    def setter(self, value):
        getattr(getattr(self.model, array_name), field)[self.index] = value

    return property(getter, setter, doc=doc)


class Consumer(FixedAgent):
    """A consumer on the social network.

    Attributes:
        index: row in ``model.consumers``.
        region: home region code.
        aware: knows mobile shopping.
        trust_domestic: trust in sellers of the own region.
        trust_foreign: trust in sellers of other regions.
        payment: pays by mobile.
        has_access: has usable mobile access.
        has_ordered: has ever ordered by mobile.
        has_ordered_cross_border: has ever ordered across regions.
    """

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index

    region = _view("consumers", "region", int, "home region code")
    aware = _view("consumers", "aware", bool, "knows mobile shopping")
    trust_domestic = _view("consumers", "trust_domestic", float, "trust in own-region sellers")
    trust_foreign = _view("consumers", "trust_foreign", float, "trust in other-region sellers")
    payment = _view("consumers", "payment", bool, "pays by mobile")
    has_access = _view("consumers", "has_access", bool, "has usable mobile access")
    has_ordered = _view("consumers", "has_ordered", bool, "has ever ordered by mobile")
    has_ordered_cross_border = _view(
        "consumers", "has_ordered_cross_border", bool, "has ever ordered from another region"
    )

    @property
    def cell(self):
        """The consumer's node in ``model.space`` (the space is built on first use if deferred)."""
        if self._mesa_cell is None and not self.model._placing:
            self.model.space  # noqa: B018 - builds the space and places every consumer
        return self._mesa_cell

    @cell.setter
    def cell(self, cell) -> None:
        FixedCell.cell.fset(self, cell)

    @property
    def stage(self) -> str:
        """Adoption stage: unaware, aware, shopper, paying or cross_border."""
        from model.metrics import consumer_stage_names

        return consumer_stage_names()[int(self.model.consumer_stage()[self.index])]


class Merchant(mesa.Agent):
    """A domestic or foreign-trade merchant.

    Attributes:
        index: row in ``model.merchants``.
        region: home region code.
        price: price index.
        integrity: chance a sale is genuine.
        reputation: public reputation.
        verified: real-name verified.
        adopted: uses mobile marketing.
        revenue: mobile revenue last step.
    """

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index

    region = _view("merchants", "region", int, "home region code")
    price = _view("merchants", "price", float, "price index")
    integrity = _view("merchants", "integrity", float, "chance a sale is genuine")
    reputation = _view("merchants", "reputation", float, "public reputation")
    verified = _view("merchants", "verified", bool, "real-name verified")
    adopted = _view("merchants", "adopted", bool, "uses mobile marketing")
    revenue = _view("merchants", "revenue", float, "mobile revenue last step")


class KOL(mesa.Agent):
    """A key opinion leader with a follower set.

    Attributes:
        index: row in ``model.kols``.
        region: home region code.
        credibility: persuasive weight.
        follower_count: number of followers.
        sponsored: last post was sponsored.
    """

    def __init__(self, model: mesa.Model, index: int):
        super().__init__(model)
        self.index = index

    region = _view("kols", "region", int, "home region code")
    credibility = _view("kols", "credibility", float, "persuasive weight")
    follower_count = _view("kols", "follower_count", int, "number of followers")
    sponsored = _view("kols", "sponsored", bool, "last post was sponsored")

    @property
    def followers(self):
        """Consumer indices following this KOL."""
        f = self.model.kols.followers
        return f.indices[f.indptr[self.index] : f.indptr[self.index + 1]]
