"""MarketModel: consumers, brands, the network, the review pool, and the daily record."""

from __future__ import annotations

import warnings
from collections import deque
from pathlib import Path

import mesa
import numpy as np
import pandas as pd

from . import network, rules
from .network import bernoulli_picks
from .agents import Consumer, Stage
from .params import CHANNELS, REMARKETING_MAX_DELAY, Params
from .provenance import MomentsimWarning
from .record import DayCounts, Recorder, columns
from .scenario import Scenario, load, loads

REFERENCE_CHECKS = 26.6  # smartphone checks a day of the average owner (seed 003)
SENTIMENT_WINDOW = 28  # days of conversation a social-listening tool reports net sentiment over
STAR_MEMORY_DAYS = 28.0  # the recent experiences that set the talk weights: an exponential memory of 28 days
NEVER = -(2**30)  # the day of an ad never seen (days are 32-bit: a million consumers' ads are half the memory)
_STARS = np.arange(6)
_UNSET = object()  # no seed given: the scenario's


class ReviewPool:
    """Public reviews per brand: persistent, readable by every researcher (seed 000).

    A platform shows a brand's average rating and its number of reviews; the pool keeps, per brand,
    how many reviews of each number of stars were ever posted (index 1-5; 0 unused).
    """

    def __init__(self, n_brands: int):
        self.counts = np.zeros((n_brands, 6), dtype=np.int64)

    def add(self, brand: int, stars: int) -> None:
        self.counts[brand, stars] += 1

    def add_many(self, brands: np.ndarray, stars: np.ndarray) -> None:
        """Reviews posted tonight, all at once (the order of posting does not matter to an average)."""
        if len(brands):
            np.add.at(self.counts, (brands, stars), 1)

    def count(self, brand: int) -> int:
        return int(self.counts[brand].sum())

    def rating(self, brand: int) -> float:
        """The displayed average rating (0 while there is no review)."""
        counts = self.counts[brand]
        return float(rules.displayed_rating(float(counts @ np.arange(6)), int(counts.sum())))

    def displayed(self) -> list[tuple[int, float]]:
        """(count, displayed rating) of every brand, as a researcher sees them today."""
        counts, star_sums = self.counts.sum(axis=1).tolist(), (self.counts @ _STARS).tolist()
        return [(count, float(rules.displayed_rating(float(star_sum), count)))
                for count, star_sum in zip(counts, star_sums)]


def resolve_params(scenario: Scenario | Params | str | Path | None, seed: int | None = None,
                   population_size: int | None = None, network_kind: str | None = None,
                   base_propensity: float | None = None, negative_multiplier: float | None = None,
                   quality: float | None = None, review_prompting: float | None = None,
                   service_recovery: float | None = None, overrides: dict | None = None) -> tuple[Params, int]:
    """The parameters and seed of a run from a model's constructor arguments (either engine)."""
    if scenario is None:
        scenario = loads("", name="defaults")
    elif isinstance(scenario, (str, Path)):
        scenario = load(scenario)
    changes = {key: value for key, value in (
        ("population.size", population_size), ("network.kind", network_kind),
        ("sharing.base_propensity", base_propensity), ("sharing.negative_multiplier", negative_multiplier))
        if value is not None}
    first = (scenario.params if isinstance(scenario, Scenario) else scenario).brand_names[0]
    changes.update({f"brands.{first}.{lever}": value for lever, value in (
        ("quality", quality), ("review_prompting", review_prompting),
        ("service_recovery", service_recovery)) if value is not None})
    changes.update(overrides or {})
    if changes:
        if not isinstance(scenario, Scenario):
            scenario = Scenario("params", scenario)
        scenario = scenario.with_overrides(changes, source="MarketModel")
    params = scenario.params if isinstance(scenario, Scenario) else scenario
    return params, params["seed"] if seed is None else seed


class RowCollector(mesa.DataCollector):
    """Mesa's DataCollector of the recorded columns, taking the day's row (``model.today``) at once.

    The reporters stay declared (``model_reporters``, ``get_model_vars_dataframe`` and
    ``mesa.batch_run`` work as usual), but the values are plain numbers the recorder made fresh for the
    day, so Mesa's call and ``deepcopy`` per column and day (a tenth of a day's time at 100,000
    consumers) are not needed.
    """

    def collect(self, model) -> None:
        self._collection_steps.append(model.time)  # what batch_run reads to find a step's row
        today = model.today
        for column, values in self.model_vars.items():
            values.append(today[column])


class Market(mesa.Model):
    """What both engines share: brands, levers and events, the network, the population's traits and
    day-0 knowledge, the review pool. The engines add the consumers (``_init_consumers``) and their days.

    ``scenario`` is a Scenario, Params, a shipped scenario's name or a file (default: the
    defaults). The keyword arguments below (and ``overrides``, dotted keys) change it, so that
    ``mesa.batch_run(MarketModel, parameters={"negative_multiplier": [1, 4, 8]}, rng=[1, 2, 3])``
    works; ``quality``, ``review_prompting`` and ``service_recovery`` are the first brand's.
    """

    FAST_NETWORK = False  # build networks with NumPy rather than networkx (other bytes, same graphs)

    def __init__(self, scenario: Scenario | Params | str | None = None, *, seed: int | None | object = _UNSET,
                 population_size: int | None = None, network_kind: str | None = None,
                 base_propensity: float | None = None, negative_multiplier: float | None = None,
                 quality: float | None = None, review_prompting: float | None = None,
                 service_recovery: float | None = None, overrides: dict | None = None):
        if seed is None:  # said on purpose, as mesa.batch_run(..., iterations=N) does for every replicate
            warnings.warn("MarketModel(seed=None): the scenario's seed is used, so replicates made this way "
                          "(mesa.batch_run with iterations) are identical runs; pass rng=[1, 2, ...] to "
                          "batch_run, or a seed per run", MomentsimWarning, stacklevel=2)
        seed = None if seed is _UNSET else seed
        params, seed = resolve_params(scenario, seed, population_size, network_kind, base_propensity,
                                      negative_multiplier, quality, review_prompting, service_recovery,
                                      overrides)
        super().__init__(rng=seed)
        self.params = params
        self.brand_names = params.brand_names
        self.n_brands = len(self.brand_names)
        self.levers = [dict(params.brand(b)) for b in self.brand_names]
        self._events = list(params.events)

        n = params["population.size"]
        self.contacts = network.build(params["network.kind"], n, params["network.mean_degree"],
                                      params["network.rewiring"], int(self.rng.integers(2**31)),
                                      params["network.file"], fast=self.FAST_NETWORK)
        n = self.contacts.size  # an edge-list file says how many consumers there are
        self._init_population(n)
        self.reviews = ReviewPool(self.n_brands)
        self.adopters = 0
        self.leave_research = rules.leave_probability(params["journey.research_days"])
        self.leave_experience = rules.leave_probability(params["journey.experience_days"])
        memory = params["awareness.memory_days"]
        self.forget_chance = rules.leave_probability(memory) if memory > 0 else 0.0
        self.choice_weights = dict(
            reference_price=params["market.reference_price"],
            attitude_weight=params["choice.attitude_weight"], price_weight=params["choice.price_weight"],
            loyalty_bonus=params["choice.loyalty_bonus"], walk_away_utility=params["choice.walk_away_utility"])
        # What the market remembers from day to day: recent experiences by stars (for the talk weights),
        # and the last days' sales and conversation per brand (for market share and net sentiment).
        self.star_recent = np.zeros(6)
        self.recent_sales: deque = deque(maxlen=params["market.share_window"])
        self.recent_talk: deque = deque(maxlen=SENTIMENT_WINDOW)
        self.sales_total = np.zeros(self.n_brands, dtype=np.int64)  # the windows' running sums (exact counts)
        self.talk_total = np.zeros((2, self.n_brands), dtype=np.int64)
        # Who walked away at the shelf on each of the last days (ids in order; the last is yesterday's).
        self.walked: deque = deque(maxlen=REMARKETING_MAX_DELAY)
        self.walked_today = []
        # Next purchases after a satisfied experience: [resolved complaint?][same brand?] (validation).
        self.rebuys_after = np.zeros((2, 2), dtype=np.int64)
        self.day_number = 0
        self._init_consumers()
        self._update_levers()
        if not params["market.new_category"]:
            for day in range(-params["market.burn_in_days"], 0):
                self._run_day(day)
        self.day_number = 0
        if self._apply_events(0):
            self._update_levers()
        self._start_record()

    def _init_consumers(self) -> None:
        """The engine's consumers at day 0, built on the shared population arrays."""
        raise NotImplementedError

    def _live_day(self) -> None:
        """The engine's day: every consumer acts on its stage; tonight, what was shared is delivered."""
        raise NotImplementedError

    def _start_record(self) -> None:
        """The recorder, the DataCollector of the recorded columns, and day 0's row."""
        self.recorder = Recorder(self.brand_names)
        self.day = DayCounts(self.n_brands)  # day 0 is the starting state: nothing happened on it yet
        self.reviews_before = self.reviews.counts.copy()
        self.datacollector = RowCollector(
            model_reporters={c: (lambda m, c=c: m.today[c]) for c in columns(self.brand_names)})
        self._collect()

    def _run_day(self, day: int) -> None:
        """One day, recorded or not (burn-in): the talk weights of the recent experiences, the engine's
        day, forgetting, and what the day adds to the market's memory."""
        self.day_number = day
        self.day = DayCounts(self.n_brands)
        self.talk_weight = rules.talk_weights(self.star_recent, self.params["sharing.extremity"])
        self.reviews_before = self.reviews.counts.copy()
        self.walked_today = []
        self._live_day()
        self._forget()
        d = self.day
        self.walked.append(np.sort(np.asarray(self.walked_today, dtype=np.int64)))
        self.star_recent += np.asarray(d.experience_stars) - self.star_recent / STAR_MEMORY_DAYS
        for window, total, counts in ((self.recent_sales, self.sales_total, d.purchases),
                                      (self.recent_talk, self.talk_total, (d.shares_positive, d.shares_negative))):
            counts = np.array(counts, dtype=np.int64)
            if len(window) == window.maxlen:
                total -= window[0]  # the day leaving the window
            total += counts
            window.append(counts)

    def step(self) -> None:
        if self._apply_events(self.steps):
            self._update_levers()
        self._run_day(self.steps)
        self._collect()

    # --- building day 0 ----------------------------------------------------------

    def _init_population(self, n: int) -> None:
        p, rng, b = self.params, self.rng, self.n_brands
        self.young = rng.random(n) < p["population.young_share"]
        weights = np.array([p[f"population.channel_mix.{c}"] for c in CHANNELS])
        mix = np.zeros((n, len(CHANNELS)))
        used = weights > 0
        mix[:, used] = rng.dirichlet(p["population.channel_concentration"] * weights[used] / weights.sum(),
                                     size=n)
        checks = p["population.checks_per_day"] * np.where(
            self.young, p["population.young_checks_multiplier"], 1.0)
        reach = np.empty((n, len(CHANNELS)))
        for j, channel in enumerate(CHANNELS):
            reach[:, j] = (checks / REFERENCE_CHECKS if channel == "smartphone"
                           else p[f"channels.{channel}.reach"])
        self.attention = rules.attention(mix, reach)
        self.meeting = rules.meeting_probability(p["wom.reach"], self.attention)
        # Personal sharing propensities: a minority of heavy sharers (seed 000: few people share), drawn
        # independently of the negative multiplier, with the population's mean at base_propensity.
        heavy_share, heavy_factor = p["sharing.heavy_share"], p["sharing.heavy_factor"]
        heavy = rng.random(n) < heavy_share
        self.propensity = (p["sharing.base_propensity"] * np.where(heavy, heavy_factor, 1.0)
                           / (1.0 + heavy_share * (heavy_factor - 1.0)))
        self.susceptibility = self._trait(p["population.susceptibility"], n)
        # Category purchase rates relative to the mean, Gamma-distributed (NBD; mean 1).
        cv = p["journey.rate_heterogeneity"]
        self.rate = rng.gamma(1.0 / cv**2, cv**2, size=n) if cv > 0 else np.ones(n)
        self.need_chance = rules.need_probability(self.rate, p["journey.purchase_cycle_days"])
        self.aware = np.zeros((n, b), dtype=bool)
        self.attitude = np.zeros((n, b))
        self.expectation = np.zeros((n, b))
        self.purchases = np.zeros((n, b), dtype=np.int64)
        self.last_ad = np.full((n, b), NEVER, dtype=np.int32)  # the day one last saw each brand's ads
        self.ad_exposure = np.zeros((n, b))
        for j, levers in enumerate(self.levers):
            self.aware[:, j] = rng.random(n) < levers["initial_awareness"]
            start = np.clip(levers["initial_attitude"] + 0.1 * rng.standard_normal(n), -1.0, 1.0)
            self.attitude[:, j] = np.where(self.aware[:, j], start, 0.0)
            self.expectation[:, j] = rules.expectation(self.attitude[:, j], 0.0, p["expectation.neutral"],
                                                       p["expectation.attitude_weight"])

    def _trait(self, mean: float, n: int) -> np.ndarray:
        """Personal traits drawn around a population mean (Beta), exactly the mean at 0 or 1."""
        if mean <= 0.0 or mean >= 1.0:
            return np.full(n, float(mean))
        c = self.params["population.trait_concentration"]
        return self.rng.beta(mean * c, (1.0 - mean) * c, size=n)

    def _remarket(self) -> np.ndarray:
        """Remarketing (seed 004): each brand's ads to those who researched it and walked away
        ``remarketing_delay`` days ago, still without a journey, each reached with ``remarketing_reach``;
        a contact is an ad seen, and starts the journey again with :func:`rules.remarketing_trigger`.
        Returns those it starts, in id order. (No draws at all while no brand remarkets.)"""
        p, n, started = self.params, self.n_brands, []
        for b, levers in enumerate(self.levers):
            reach, delay = levers["remarketing_reach"], levers["remarketing_delay"]
            if reach <= 0 or delay > len(self.walked) or not len(self.walked[-delay]):
                continue
            ids = self.walked[-delay]
            ids = ids[self.aware.reshape(-1)[ids * n + b] & self._dormant(ids)]
            ids = ids[self.rng.random(len(ids)) < reach]
            self.day.remarketing[b] += len(ids)
            if len(ids):
                self._ad_seen(ids, b)
                chance = rules.remarketing_trigger(p["remarketing.trigger"], delay, p["remarketing.half_life_days"])
                started.append(ids[self.rng.random(len(ids)) < chance])
        if not started:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate(started))

    def _dormant(self, ids: np.ndarray) -> np.ndarray:
        """Whether each of ``ids`` is dormant (between journeys)."""
        raise NotImplementedError

    def _ad_seen(self, ids: np.ndarray, brand: int) -> None:
        """Consumers (all aware of the brand) saw one of its ads today: the promise, and persuasion."""
        flat = ids * self.n_brands + brand
        self.last_ad.reshape(-1)[flat] = self.day_number
        attitude = self.attitude.reshape(-1)
        attitude[flat] = rules.move_attitude(attitude[flat], 1.0, self.params["ads.persuasion"])

    def _update_levers(self) -> None:
        """Derived per-brand quantities, recomputed when an intervention changes a lever."""
        self.price_list = [lv["price"] for lv in self.levers]
        self.hype = [self.params["ads.hype"] * lv["ad_intensity"] for lv in self.levers]
        self._hype = np.asarray(self.hype, dtype=float)
        for j, levers in enumerate(self.levers):
            self.ad_exposure[:, j] = rules.exposure_probability(levers["ad_intensity"], self.attention)
        self.ad_any = 1.0 - np.prod(1.0 - self.ad_exposure, axis=1)
        self._levers_changed()

    def _levers_changed(self) -> None:
        """An engine's hook: keep what it derives from the levers up to date."""

    def schedule(self, events) -> None:
        """Add timed events (``sim.params.Event``: day, brand, lever, value) to those still to come, as a
        game or a controller decides them: each applies on its day, like the scenario's own. An event
        whose day has passed applies on the next step; on one day, the events apply in the order given."""
        for event in events:
            if event.brand not in self.brand_names:
                raise ValueError(f"schedule: unknown brand {event.brand!r}")
            if event.lever not in self.levers[0]:
                raise ValueError(f"schedule: unknown lever {event.lever!r}")
        self._events = sorted(self._events + list(events), key=lambda e: e.day)

    def _apply_events(self, day: int) -> bool:
        changed = False
        while self._events and self._events[0].day <= day:
            event = self._events.pop(0)
            self.levers[self.brand_names.index(event.brand)][event.lever] = event.value
            changed = True
        return changed

    def _forget(self) -> None:
        """Awareness fades: each day each (consumer, brand) pair is forgotten with the memory's daily chance,
        unless the consumer has bought the brand (one's own experience stays in mind)."""
        if not self.forget_chance:
            return
        flat = bernoulli_picks(self.rng, self.aware.size, self.forget_chance)
        flat = flat[self.aware.reshape(-1)[flat] & (self.purchases.reshape(-1)[flat] == 0)]
        if len(flat):
            self._unknow(flat)

    def _unknow(self, flat: np.ndarray) -> None:
        """Forget (consumer, brand) pairs, by index into the flat (consumers x brands) arrays."""
        self.aware.reshape(-1)[flat] = False
        self.attitude.reshape(-1)[flat] = 0.0

    def hype_for(self, ids, brand):
        """The advertised promise each consumer holds of a brand: its hype, if its ads were seen lately."""
        seen = rules.hype_seen(self.last_ad.reshape(-1)[np.asarray(ids) * self.n_brands + brand], self.day_number,
                               self.params["ads.hype_days"])
        return np.where(seen, self._hype[brand], 0.0)

    def _collect(self) -> None:
        self.today = self.recorder.row(self)
        self.datacollector.collect(self)

    # --- results -------------------------------------------------------------------

    def table(self) -> pd.DataFrame:
        """The recorded table: one row a day, the columns of :func:`sim.record.columns`."""
        frame = self.datacollector.get_model_vars_dataframe()
        return frame.reset_index(drop=True)


class MarketModel(Market):
    """A market of consumers on the customer journey and the brands they buy: one Mesa agent a consumer.

    ``MarketModel(scenario)`` builds day 0; ``step()`` simulates one day;
    ``table()`` returns the recorded table (one row a day, day 0 included). The constructor's
    arguments are :class:`Market`'s (they work with ``mesa.batch_run``).
    """

    def _init_consumers(self) -> None:
        self.outbox: list[tuple] = []
        self.consumers = [
            Consumer(self, i, bool(self.young[i]), float(self.attention[i]), float(self.propensity[i]),
                     float(self.susceptibility[i]), float(self.need_chance[i]))
            for i in range(self.contacts.size)]

    def _levers_changed(self) -> None:
        """What an engine keeps of the derived quantities (the per-agent engine: each consumer's chances)."""
        for consumer, chances, chance_any in zip(self.consumers, self.ad_exposure.tolist(), self.ad_any.tolist()):
            consumer.ad_chances = tuple(chances)
            consumer.ad_any = chance_any

    # --- what the record reads -------------------------------------------------------

    @property
    def size(self) -> int:
        return len(self.consumers)

    def stage_counts(self) -> np.ndarray:
        return np.bincount([c.stage for c in self.consumers], minlength=len(Stage))

    def aware_attitude(self) -> tuple[np.ndarray, np.ndarray]:
        """Per brand: how many are aware of it, and the sum of their attitudes."""
        return self.aware.sum(axis=0), np.where(self.aware, self.attitude, 0.0).sum(axis=0)

    def stages(self) -> np.ndarray:
        """Each consumer's stage today (for the network view)."""
        return np.fromiter((c.stage for c in self.consumers), dtype=np.int8, count=len(self.consumers))

    def satisfied_flags(self) -> np.ndarray:
        """Whether each consumer was satisfied with its last experience (for the network view)."""
        return np.fromiter((c.satisfied for c in self.consumers), dtype=bool, count=len(self.consumers))

    def _dormant(self, ids: np.ndarray) -> np.ndarray:
        return np.fromiter((self.consumers[i].stage == Stage.DORMANT for i in ids.tolist()), dtype=bool,
                           count=len(ids))

    # --- one day -------------------------------------------------------------------

    def _live_day(self) -> None:
        # Every consumer acts once a day. The order does not matter: what is shared today is heard
        # tomorrow. (A plain loop over the agents: Mesa's AgentSet.do costs more than the dormant's day.)
        self.displayed_reviews = self.reviews.displayed()
        for i in self._remarket().tolist():
            self.consumers[i].triggered = True
        for consumer in self.consumers:
            consumer.step()
        self._deliver()

    def record_purchase(self, brand: int, retained: bool, first: bool) -> None:
        day = self.day
        day.purchases[brand] += 1
        day.revenue[brand] += self.levers[brand]["price"]
        if retained:
            day.retentions[brand] += 1
        else:
            day.acquisitions[brand] += 1
        self.adopters += first

    def tell(self, teller: int, brand: int, stars: int, satisfied: bool, private: bool,
             public: bool) -> None:
        """A shared experience, counted once whatever the channels; delivered tonight."""
        if satisfied:
            self.day.shares_positive[brand] += 1
        else:
            self.day.shares_negative[brand] += 1
        self.outbox.append((teller, brand, stars, private, public))

    def _deliver(self) -> None:
        """Tonight: reviews join the public pool, stories reach the contacts who meet them."""
        for teller, brand, stars, private, public in self.outbox:
            if public:
                self.reviews.add(brand, stars)
            if private:
                audience = self.contacts.audience(teller, self.rng)
                if len(audience):
                    met = audience[self.rng.random(len(audience)) < self.meeting[audience]]
                    for j in met.tolist():
                        self.consumers[j].inbox.append((brand, stars))
        self.outbox.clear()
