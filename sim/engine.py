"""The array engine: the whole population in NumPy arrays, the same journey rules on many at once.

``ArrayMarketModel`` is a ``mesa.Model`` like :class:`sim.model.MarketModel`, built from the same
scenario, with the same population set-up, review pool, events and recorded columns; each day it
calls the rules of :mod:`sim.rules` on arrays of consumers instead of one consumer at a time.

A day costs what happens on it, not the population. Most consumers are dormant on most days:

* Stages whose length is geometric (dormant until the need comes round, ZMOT, SMOT) are not
  tried every day: on entering one, a consumer draws the day it leaves it (``rng.geometric`` of
  the stage's daily chance, memoryless, so the same distribution as a daily draw) and waits in a
  calendar bucketed by day. One-day stages (Stimulus, FMOT, UMOT) are due the next day.
* Ads: every consumer draws the next day it sees at least one ad (geometric in its chance of
  seeing any ad a day), and waits in a second calendar; the calendar is redrawn when an
  intervention changes an ad intensity.
* Stories travel over the network's neighbour arrays (CSR), gathered for all of tonight's tellers
  at once; the fully mixed network draws a Poisson audience per story.
* The record keeps running stage counts and, per brand, the count of the aware and the sum of
  their attitudes, updated where they change.

What a day does, in the per-agent engine's order: yesterday's stories are heard, today's ads are
seen (both may trigger a dormant consumer's journey), every consumer whose stage action is due
acts, and tonight the shared experiences are delivered. The random stream is not the per-agent
engine's: the two engines agree in distribution (tests/test_engine_equivalence.py), and each
gives the same bytes for the same seed.
"""

from __future__ import annotations

import numpy as np

from . import rules
from .agents import Stage
from .model import Market, resolve_params
from .params import Params
from .record import DayCounts
from .scenario import Scenario

DORMANT, STIMULUS, ZMOT, FMOT, SMOT, UMOT = (int(s) for s in Stage)
_EMPTY = np.empty(0, dtype=np.int64)


class Calendar:
    """Consumers bucketed by the day of their next event.

    Entries are not removed when plans change; whoever pops a day keeps only the consumers whose
    current plan (an array of days, one per consumer) still says that day. Two levels keep adding
    cheap: entries wait in weekly buckets and are sorted into days when their week comes.
    """

    WEEK = 8

    def __init__(self, repeats: bool = True):
        self.repeats = repeats  # whether a consumer can be planned twice for one day
        self.weeks: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        self.days: dict[int, list[np.ndarray]] = {}
        self.open: set[int] = set()  # weeks already sorted into days

    def add(self, ids: np.ndarray, days: np.ndarray | int) -> None:
        if not len(ids):
            return
        if np.isscalar(days):
            day = int(days)
            if day // self.WEEK in self.open:
                self.days.setdefault(day, []).append(ids)
            else:
                self.weeks.setdefault(day // self.WEEK, []).append((ids, np.full(len(ids), day)))
            return
        week = days // self.WEEK
        low = int(week.min())
        # A radix sort on small integers: stable and linear.
        order = np.argsort((week - low).astype(np.uint16) if int(week.max()) - low < 65536 else week,
                           kind="stable")
        ids, days, week = ids[order], days[order], week[order]
        cuts = np.flatnonzero(week[1:] != week[:-1]) + 1
        starts, ends = np.concatenate(([0], cuts)).tolist(), np.concatenate((cuts, [len(ids)])).tolist()
        for start, end, w in zip(starts, ends, week[starts].tolist()):
            if w in self.open:
                self._into_days(ids[start:end], days[start:end])
            else:
                self.weeks.setdefault(w, []).append((ids[start:end], days[start:end]))

    def _into_days(self, ids: np.ndarray, days: np.ndarray) -> None:
        order = np.argsort((days - days.min()).astype(np.uint16), kind="stable")
        ids, days = ids[order], days[order]
        cuts = np.flatnonzero(days[1:] != days[:-1]) + 1
        starts, ends = np.concatenate(([0], cuts)).tolist(), np.concatenate((cuts, [len(ids)])).tolist()
        for start, end, day in zip(starts, ends, days[starts].tolist()):
            self.days.setdefault(day, []).append(ids[start:end])

    def pop(self, day: int, plan: np.ndarray) -> np.ndarray:
        """The consumers due on ``day`` by their current plan, each once."""
        week = day // self.WEEK
        if week not in self.open:
            self.open.add(week)
            self.open.discard(week - 2)
            chunks = self.weeks.pop(week, [])
            if chunks:
                self._into_days(np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks]))
        parts = self.days.pop(day, None)
        if not parts:
            return _EMPTY
        ids = parts[0] if len(parts) == 1 else np.concatenate(parts)
        ids = np.sort(ids[plan[ids] == day])  # in memory order: the gathers and scatters that follow are faster
        if self.repeats and len(ids) > 1:  # a week's chunks, or two parts, may plan one consumer twice
            ids = ids[np.concatenate(([True], ids[1:] != ids[:-1]))]
        return ids


class ArrayMarketModel(Market):
    """The market with the population held in arrays: the same scenario, rules and recorded table.

    The constructor takes the same arguments as :class:`sim.model.MarketModel`.
    """

    def __init__(self, scenario: Scenario | Params | str | None = None, *, seed: int | None = None,
                 population_size: int | None = None, network_kind: str | None = None,
                 base_propensity: float | None = None, negative_multiplier: float | None = None,
                 quality: float | None = None, review_prompting: float | None = None,
                 service_recovery: float | None = None, overrides: dict | None = None):
        params, seed = resolve_params(scenario, seed, population_size, network_kind, base_propensity,
                                      negative_multiplier, quality, review_prompting, service_recovery,
                                      overrides)
        super().__init__(params, seed, fast_network=True)
        n, b = self.contacts.size, self.n_brands
        self.stage = np.zeros(n, dtype=np.int8)
        self.stage_count = np.zeros(len(Stage), dtype=np.int64)
        self.stage_count[DORMANT] = n
        self.plan = np.zeros(n, dtype=np.int64)  # day of each consumer's next stage action
        self.next_ad = np.full(n, -1, dtype=np.int64)  # day each consumer next sees an ad
        self.need_chance = np.full(n, 0.0 if params["market.new_category"] else self.need_probability)
        self.last_brand = np.full(n, -1, dtype=np.int64)
        self.last_satisfied = np.zeros(n, dtype=bool)
        self.rebuy = np.zeros(n, dtype=bool)
        self.bought = np.full(n, -1, dtype=np.int64)
        self.satisfied = np.zeros(n, dtype=bool)
        self.rating = np.zeros(n)
        self.aware_count = self.aware.sum(axis=0).astype(np.int64)
        self.attitude_sum = np.where(self.aware, self.attitude, 0.0).sum(axis=0)
        self.calendar, self.ads = Calendar(), Calendar(repeats=False)
        self.inbox = (_EMPTY, _EMPTY, np.empty(0))  # (listener, brand, stars) of tonight's stories
        self.outbox: list[tuple[np.ndarray, ...]] = []
        self._ad_intensities = None
        self._update_levers()
        self._wait_for_need(np.arange(n, dtype=np.int64), 0)
        self._start_record()

    # --- what the record reads -------------------------------------------------------

    @property
    def size(self) -> int:
        return self.contacts.size

    def stage_counts(self) -> np.ndarray:
        return self.stage_count.copy()

    def aware_attitude(self) -> tuple[np.ndarray, np.ndarray]:
        return self.aware_count.copy(), self.attitude_sum.copy()

    def stages(self) -> np.ndarray:
        return self.stage.copy()

    def satisfied_flags(self) -> np.ndarray:
        return self.satisfied.copy()

    # --- levers and plans -----------------------------------------------------------

    def _levers_changed(self) -> None:
        self.prices = np.array(self.price_list, dtype=float)
        self.hypes = np.array(self.hype, dtype=float)
        self.qualities = np.array([lv["quality"] for lv in self.levers], dtype=float)
        self.spreads = np.array([lv["quality_spread"] for lv in self.levers], dtype=float)
        self.recovery = np.array([lv["service_recovery"] for lv in self.levers], dtype=float)
        self.prompting = np.array([lv["review_prompting"] for lv in self.levers], dtype=float)
        intensities = [lv["ad_intensity"] for lv in self.levers]
        self.ad_any_min = float(self.ad_any.min()) if len(self.ad_any) else 0.0
        if intensities != self._ad_intensities:  # the chances of ads changed: everyone's next ad is redrawn
            self._ad_intensities = intensities
            self.ads = Calendar(repeats=False)
            self.next_ad[:] = -1
            # From today on (an intervention applies before today's ads), from day 1 when building day 0.
            self._plan_ads(np.arange(self.contacts.size, dtype=np.int64), max(self.steps - 1, 0))

    def _after(self, day: int, chance, count: int) -> np.ndarray | int:
        """The day a daily chance first comes true after ``day`` (geometric, at least day + 1)."""
        if np.isscalar(chance) and chance >= 1.0:
            return day + 1
        return day + self.rng.geometric(chance, size=count)

    def _plan_ads(self, ids: np.ndarray, day: int) -> None:
        chance = self.ad_any[ids]
        if self.ad_any_min <= 0:
            some = chance > 0
            ids, chance = ids[some], chance[some]
        days = day + self.rng.geometric(chance)
        self.next_ad[ids] = days
        self.ads.add(ids, days)

    def _move(self, ids: np.ndarray, stage: int, days) -> None:
        """Put consumers (all in one stage today) into ``stage``, acting next on ``days``."""
        if not len(ids):
            return
        self.stage_count[self.stage[ids[0]]] -= len(ids)
        self.stage_count[stage] += len(ids)
        self.stage[ids] = stage
        self.plan[ids] = days
        self.calendar.add(ids, days)

    def _wait_for_need(self, ids: np.ndarray, day: int) -> None:
        """Dormant: the day the purchase cycle comes round (never, with no purchase cycle yet)."""
        if not len(ids):
            return
        self.stage_count[self.stage[ids[0]]] -= len(ids)
        self.stage_count[DORMANT] += len(ids)
        self.stage[ids] = DORMANT
        self.plan[ids] = -1
        chance = self.need_chance[ids]
        cycling = ids[chance > 0]
        if len(cycling):
            days = day + self.rng.geometric(chance[chance > 0])
            self.plan[cycling] = days
            self.calendar.add(cycling, days)

    def _know(self, ids: np.ndarray, brand, attitude: np.ndarray, aware=True) -> None:
        """Set awareness and attitude of (consumer, brand) pairs (each pair once), keeping the sums."""
        flat = ids * self.n_brands + brand  # one index into the flat arrays: faster than [ids, brand]
        aware_flat, attitude_flat = self.aware.reshape(-1), self.attitude.reshape(-1)
        was_aware, was = aware_flat[flat], attitude_flat[flat]
        aware_flat[flat] = aware
        attitude_flat[flat] = attitude
        if aware is True:
            gained, total = 1 - was_aware, attitude - np.where(was_aware, was, 0.0)
        else:
            gained = aware.astype(np.int64) - was_aware
            total = np.where(aware, attitude, 0.0) - np.where(was_aware, was, 0.0)
        if np.isscalar(brand):
            self.aware_count[brand] += int(gained.sum())
            self.attitude_sum[brand] += total.sum()
        else:
            self.aware_count += np.bincount(brand, weights=gained, minlength=self.n_brands).astype(np.int64)
            self.attitude_sum += np.bincount(brand, weights=total, minlength=self.n_brands)

    # --- one day ----------------------------------------------------------------------

    def step(self) -> None:
        day = self.steps
        if self._apply_events(day):
            self._update_levers()
        self.day = DayCounts(self.n_brands)
        triggered = [self._hear_stories(), self._see_ads(day)]
        due = self.calendar.pop(day, self.plan)
        stage = self.stage[due]
        triggered = np.concatenate(triggered)
        woken = due[stage == DORMANT]
        if len(triggered):
            woken = np.unique(np.concatenate([woken, triggered[self.stage[triggered] == DORMANT]]))
        # Every group acts on its stage at the start of the day; what is shared is heard tomorrow.
        self._respond_to_stimulus(due[stage == STIMULUS], day)
        self._research(due[stage == ZMOT], day)
        self._choose(due[stage == FMOT], day)
        self._experience(due[stage == SMOT], day)
        self._share(due[stage == UMOT], day)
        self._move(woken, STIMULUS, day + 1)
        self._deliver()
        self._collect()

    def _hear_stories(self) -> np.ndarray:
        """Yesterday's stories: awareness, attitude, maybe a new journey; who was triggered."""
        listener, brand, stars = self.inbox
        self.inbox = (_EMPTY, _EMPTY, np.empty(0))
        if not len(listener):
            return _EMPTY
        p = self.params
        # Stories are heard in the order told: one round per story a listener heard tonight.
        order = np.argsort(listener, kind="stable")
        listener, brand, stars = listener[order], brand[order], stars[order]
        first = np.concatenate(([True], listener[1:] != listener[:-1]))
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(listener)), 0))
        rank = np.arange(len(listener)) - group_start
        by_rank = np.argsort(rank, kind="stable")
        bounds = np.searchsorted(rank[by_rank], np.arange(rank.max() + 2))
        for r in range(rank.max() + 1):
            take = by_rank[bounds[r]:bounds[r + 1]]
            who, b = listener[take], brand[take]
            weight = p["wom.weight"] * self.susceptibility[who]
            self._know(who, b, rules.move_attitude(self.attitude[who, b], rules.stars_signal(stars[take]),
                                                   weight))
        return listener[self.rng.random(len(listener)) < p["wom.trigger"]]

    def _see_ads(self, day: int) -> np.ndarray:
        """Micro-moments: those who see at least one ad today; which brands', and what it does."""
        ids = self.ads.pop(day, self.next_ad)
        if not len(ids):
            return _EMPTY
        p = self.params
        chances = self.ad_exposure[ids]
        none_after = rules.none_seen_after(chances)
        seen_before = np.zeros(len(ids), dtype=bool)
        triggered = []
        u = self.rng.random((self.n_brands, len(ids)))
        for b in range(self.n_brands):
            chance = chances[:, b]
            seen = u[b] < rules.ad_seen_probability(chance, none_after[:, b], seen_before)  # never at chance 0
            seen_before |= seen
            who = ids[seen]
            self._know(who, b, rules.move_attitude(self.attitude[who, b], 1.0, p["ads.persuasion"]))
            triggered.append(who[self.rng.random(len(who)) < p["journey.ad_trigger"]])
        self._plan_ads(ids, day)
        return np.concatenate(triggered)

    def _respond_to_stimulus(self, ids: np.ndarray, day: int) -> None:
        """Stimulus: a satisfied customer may go straight back to the brand (loyalty loop)."""
        if not len(ids):
            return
        loyal = self.last_satisfied[ids] & (self.last_brand[ids] >= 0)
        rebuy = loyal & (self.rng.random(len(ids)) < self.params["journey.loyal_skip_research"])
        self.rebuy[ids[rebuy]] = True
        self._move(ids[rebuy], FMOT, day + 1)
        research = ids[~rebuy]
        self._move(research, ZMOT, self._after(day, self.leave_research, len(research)))

    def _research(self, ids: np.ndarray, day: int) -> None:
        """ZMOT, on the day research ends: discover brands, read reviews, form expectations."""
        if not len(ids):
            return
        p = self.params
        for b in range(self.n_brands):
            aware = self.aware[ids, b]
            aware = aware | (self.rng.random(len(ids)) < p["journey.discovery"])
            available, recent_stars = self.reviews.recent(b, p["reviews.read"])
            attitude = self.attitude[ids, b]
            if available:
                weight = rules.review_weight(p["reviews.weight"], self.susceptibility[ids], float(available),
                                             float(p["reviews.read"]))
                attitude = np.where(aware, rules.move_attitude(attitude, rules.stars_signal(recent_stars),
                                                               weight), attitude)
            self._know(ids, b, attitude, aware)
            # Expected of every brand, known or not: a brand met after research is judged by it too.
            self.expectation[ids, b] = rules.expectation(attitude, self.hypes[b], p["expectation.neutral"],
                                                         p["expectation.attitude_weight"])
        self._move(ids, FMOT, day + 1)

    def _choose(self, ids: np.ndarray, day: int) -> None:
        """FMOT: at the shelf, buy a brand or walk away."""
        if not len(ids):
            return
        p, n = self.params, self.n_brands
        rebuy = self.rebuy[ids]
        loyal_ids, ids = ids[rebuy], ids[~rebuy]
        loyal_brand = self.last_brand[loyal_ids]
        self.expectation[loyal_ids, loyal_brand] = rules.expectation(
            self.attitude[loyal_ids, loyal_brand], self.hypes[loyal_brand], p["expectation.neutral"],
            p["expectation.attitude_weight"])
        self.rebuy[loyal_ids] = False
        loyal_to = self.last_satisfied[ids, None] & (self.last_brand[ids, None] == np.arange(n))
        probabilities = rules.choice_probabilities(self.attitude[ids], self.aware[ids], self.prices, loyal_to,
                                                   **self.choice_weights)
        choice = rules.pick(probabilities, self.rng.random(len(ids)))
        walk = choice >= n
        self.day.walk_aways += int(walk.sum())
        self._wait_for_need(ids[walk], day)
        buyers = np.concatenate([loyal_ids, ids[~walk]])
        brand = np.concatenate([loyal_brand, choice[~walk]])
        previous = self.last_brand[buyers]
        retained = rules.is_retention(previous, brand)
        bought = np.bincount(brand, minlength=n)
        kept = np.bincount(brand[retained], minlength=n)
        d = self.day
        for b in range(n):
            d.purchases[b] += int(bought[b])
            d.revenue[b] += float(bought[b] * self.levers[b]["price"])
            d.retentions[b] += int(kept[b])
            d.acquisitions[b] += int(bought[b] - kept[b])
        self.adopters += int((previous < 0).sum())
        self.purchases[buyers, brand] += 1
        self.bought[buyers] = brand
        self.need_chance[buyers] = self.need_probability  # a customer now has the category's purchase cycle
        # The buyers come from two stages' groups: FMOT for all, so one move.
        self._move(buyers, SMOT, self._after(day, self.leave_experience, len(buyers)))

    def _experience(self, ids: np.ndarray, day: int) -> None:
        """SMOT, on the day use is judged: experience against expectation; service may save it."""
        if not len(ids):
            return
        p = self.params
        brand = self.bought[ids]
        lived = rules.experience(self.qualities[brand], self.spreads[brand], self.rng.standard_normal(len(ids)))
        expected = self.expectation[ids, brand]
        satisfied = rules.is_satisfied(lived, expected, p["experience.tolerance"])
        rating = rules.stars(lived, expected, p["experience.tolerance"])
        recovered = ~satisfied & (self.rng.random(len(ids)) < self.recovery[brand])
        satisfied = satisfied | recovered
        rating = np.where(recovered, p["experience.recovered_rating"], rating)
        d = self.day
        for b, count in enumerate(np.bincount(brand[recovered], minlength=self.n_brands).tolist()):
            d.recoveries[b] += count
        d.satisfied += int(satisfied.sum())
        d.dissatisfied += int(len(ids) - satisfied.sum())
        self._know(ids, brand, rules.move_attitude(self.attitude[ids, brand], rules.stars_signal(rating),
                                                   p["experience.weight"]))
        self.last_brand[ids] = brand
        self.last_satisfied[ids] = satisfied
        self.satisfied[ids] = satisfied
        self.rating[ids] = rating
        self._move(ids, UMOT, day + 1)

    def _share(self, ids: np.ndarray, day: int) -> None:
        """UMOT: tell contacts, post a review, both, or stay silent; then dormant again."""
        if not len(ids):
            return
        p = self.params
        brand, satisfied = self.bought[ids], self.satisfied[ids]
        spontaneous, prompted = rules.share_probabilities(self.propensity[ids], satisfied.astype(float),
                                                          p["sharing.negative_multiplier"], self.prompting[brand])
        u = self.rng.random(len(ids))
        told = u < spontaneous
        posted = told & (self.rng.random(len(ids)) < p["sharing.public_fraction"])
        posted |= ~told & (u < spontaneous + prompted)
        shared = told | posted
        d = self.day
        positive = np.bincount(brand[shared & satisfied], minlength=self.n_brands).tolist()
        negative = np.bincount(brand[shared & ~satisfied], minlength=self.n_brands).tolist()
        for b in range(self.n_brands):
            d.shares_positive[b] += positive[b]
            d.shares_negative[b] += negative[b]
        self.outbox.append((ids[shared], brand[shared], self.rating[ids[shared]], told[shared], posted[shared]))
        self.bought[ids] = -1
        self._wait_for_need(ids, day)

    def _deliver(self) -> None:
        """Tonight: reviews join the public pool, stories reach the contacts who meet them."""
        if not self.outbox:
            self.inbox = (_EMPTY, _EMPTY, np.empty(0))
            return
        teller, brand, stars, private, public = (np.concatenate(x) for x in zip(*self.outbox))
        self.outbox.clear()
        for b, s in zip(brand[public].tolist(), stars[public].tolist()):
            self.reviews.add(b, s)
        teller, brand, stars = teller[private], brand[private], stars[private]
        contacts = self.contacts
        if contacts.mixed:
            count = (self.rng.poisson(contacts.mean_degree, size=len(teller)) if contacts.size >= 2
                     else np.zeros(len(teller), dtype=np.int64))
            story = np.repeat(np.arange(len(teller)), count)
            others = self.rng.integers(0, max(contacts.size - 1, 1), size=len(story))
            audience = others + (others >= teller[story])  # uniform over everyone but the teller
        else:
            start, count = contacts.indptr[teller], contacts.indptr[teller + 1] - contacts.indptr[teller]
            story = np.repeat(np.arange(len(teller)), count)
            offset = np.arange(len(story)) - np.repeat(np.cumsum(count) - count, count)
            audience = contacts.indices[start[story] + offset]
        met = self.rng.random(len(audience)) < self.meeting[audience]
        self.inbox = (audience[met], brand[story[met]], stars[story[met]])
