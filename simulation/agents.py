"""Mesa agents GP, Practice and Federation: views onto the state arrays.

An agent holds only its index; its attributes read (and, where it makes sense, write) the
model's arrays, so ``model.agents_by_type[GP].select(...)``, ``.agg(...)`` and ``.groupby(...)``
see exactly what the vectorised engine computes. A GP agent is a *post* in a practice: when the
GP leaves, ``active`` is false until a new person (``person``) fills it.

Agents do not step one by one: ``model.step()`` runs one month of the ODD schedule
(:data:`simulation.schedule.SCHEDULE`), each submodel on all agents at once. ``GP.step()``,
``Practice.step()`` and ``Federation.step()`` therefore raise ``NotImplementedError``, so that
``model.agents.shuffle_do("step")`` fails loudly instead of silently doing nothing.
"""

from __future__ import annotations

import mesa
import numpy as np

from . import kernels


class _Column:
    """An attribute backed by one element of a state array (``model.state.<array>[index]``)."""

    def __init__(self, array: str, doc: str = "", writable: bool = True):
        self.array, self.writable, self.__doc__ = array, writable, doc

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, agent, owner=None):
        if agent is None:
            return self
        value = getattr(agent.model.state, self.array)[agent.index]
        return value.item() if isinstance(value, np.generic) else value

    def __set__(self, agent, value):
        if not self.writable:
            raise AttributeError(f"{type(agent).__name__}.{self.name} is derived and read-only")
        getattr(agent.model.state, self.array)[agent.index] = value


_LINKS = ("practice", "gps", "federation", "practices")


def attributes(cls) -> tuple[str, ...]:
    """The data attributes of an agent class (its columns and properties, with ``index`` and
    ``unique_id``): the names an attribute reporter may use. Links to other agents (``GP.practice``)
    are left out: a reporter's value is copied, and an agent would be copied with its model."""
    names = ["index", "unique_id"]
    for klass in reversed(cls.__mro__[:cls.__mro__.index(_View)]):
        names += [name for name, value in vars(klass).items()
                  if isinstance(value, (_Column, property)) and not name.startswith("_")
                  and name not in _LINKS]
    return tuple(dict.fromkeys(names))


class _View(mesa.Agent):
    """An agent that is a view onto row ``index`` of the model's state arrays."""

    def __init__(self, model, index: int):
        super().__init__(model)
        self.index = index

    def step(self) -> None:
        """Not available: the model steps all agents together, submodel by submodel."""
        raise NotImplementedError(
            f"{type(self).__name__} agents do not step one by one: the model steps the whole ODD "
            "schedule each month (model.step()), submodel by submodel on all agents at once, in "
            "the order of simulation.schedule.SCHEDULE")


class GP(_View):
    """A GP post: a general practitioner in a practice (see the ODD, 'Entities')."""

    practice_index = _Column("practice", "index of the GP's practice", writable=False)
    partner = _Column("partner", "True for a partner, False for a salaried GP")
    leadership_propensity = _Column("propensity", "latent leadership propensity (0-1)")
    style_index = _Column("style", "row of the leadership styles table")
    seniority = _Column("seniority", "years in post")
    autonomy = _Column("autonomy", "autonomy (0-1)")
    strain = _Column("strain", "strain (0-1)")
    cynicism = _Column("cynicism", "cynicism about the top-down drive (0-1)")
    formal_leader = _Column("formal", "holds a formal leadership role")
    month_appointed = _Column("month_appointed", "month of appointment as formal leader (-1: none)")
    influence = _Column("influence", "influence: reputation for adoptions the GP's ties caused")
    cross_influence = _Column("cross_influence", "influence earned across practice boundaries")
    active = _Column("active", "False while the post is vacant")
    embeddedness = _Column("embeddedness", "weight of the GP's voice in its ties (0-1)")
    person = _Column("person", "id of the person in the post", writable=False)

    @property
    def practice(self) -> "Practice":
        return self.model.practice_agents[self.practice_index]

    @property
    def role(self) -> str:
        return "partner" if self.partner else "salaried"

    @property
    def style(self) -> str:
        return self.model.params.styles[self.style_index].name

    @property
    def informal_leader(self) -> bool:
        """In a spell as informal leader (:func:`simulation.kernels.is_informal`)."""
        s, i = self.model.state, self.index
        return bool(kernels.is_informal(s.active[i], s.informal_since[i]))

    @property
    def broker(self) -> bool:
        """An informal leader whose influence reaches across practices (:func:`simulation.kernels.is_broker`)."""
        s, i = self.model.state, self.index
        return bool(kernels.is_broker(s.active[i], s.informal_since[i], s.cross_influence[i],
                                      self.model.params.broker_bar))

    @property
    def adopted(self) -> dict[str, str | None]:
        """Each innovation: 'genuine', 'shallow' or None."""
        s, i = self.model.state, self.index
        return {inn.name: "genuine" if s.genuine[i, k] else "shallow" if s.shallow[i, k] else None
                for k, inn in enumerate(self.model.params.innovations)}

    def uses(self, innovation: str) -> bool:
        k = self.model.params.innovation_index(innovation)
        return bool(self.model.state.genuine[self.index, k] or self.model.state.shallow[self.index, k])

    def neighbours(self) -> list[int]:
        """Indices of the GPs this GP is tied to (within and across practices), in CSR order."""
        ties = self.model.ties
        out = []
        for m in (ties.inside, ties.across):
            out += m.indices[m.indptr[self.index]:m.indptr[self.index + 1]].tolist()
        return out


class Practice(_View):
    """A general practice: its GP posts, culture, inertia, adoption and quality."""

    list_size = _Column("list_size", "registered patients")
    federation_index = _Column("practice_federation", "index of the practice's federation", writable=False)
    culture = _Column("culture", "innovation culture (0-1)")
    inertia = _Column("inertia", "resistance to change (0-1)")
    quality = _Column("quality", "quality-of-care index")

    @property
    def gp_indices(self) -> np.ndarray:
        return np.flatnonzero(self.model.state.practice == self.index)

    @property
    def gps(self) -> list[GP]:
        return [self.model.gp_agents[i] for i in self.gp_indices]

    @property
    def vacancies(self) -> int:
        s = self.model.state
        return int(np.count_nonzero((s.practice == self.index) & ~s.active))

    @property
    def federation(self) -> "Federation":
        return self.model.federation_agents[self.federation_index]

    @property
    def adopted(self) -> dict[str, bool]:
        row = self.model.state.practice_adopted[self.index]
        return {inn.name: bool(row[k]) for k, inn in enumerate(self.model.params.innovations)}


class Federation(_View):
    """A federation, network (PCN) or trust-absorbed group of practices."""

    has_plan = _Column("has_plan", "whether the federation has a plan")

    @property
    def form(self) -> str:
        from .state import FORMS
        return FORMS[int(self.model.state.form[self.index])]

    @property
    def practices(self) -> list[Practice]:
        idx = np.flatnonzero(self.model.state.practice_federation == self.index)
        return [self.model.practice_agents[i] for i in idx]

    @property
    def plan(self) -> list[str]:
        row = self.model.state.plan[self.index]
        return [inn.name for k, inn in enumerate(self.model.params.innovations) if row[k]]

    @property
    def brokers(self) -> int:
        s = self.model.state
        fed = s.practice_federation[s.practice] == self.index
        return int(np.count_nonzero(kernels.brokers(s, self.model.params) & fed))
