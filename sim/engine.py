"""The array engine: the whole population in NumPy arrays, the same journey rules on many at once.

``ArrayMarketModel`` is a ``mesa.Model`` like :class:`sim.model.MarketModel`, built from the same
scenario, with the same population set-up, review pool, events and recorded columns; each day it
calls the rules of :mod:`sim.rules` on arrays of consumers instead of one consumer at a time.

A day costs what happens on it, not the population. Most consumers are dormant on most days, and
every daily chance is drawn as a Bernoulli process whose gaps are geometric
(:func:`sim.network.bernoulli_picks`): the draws cost the consumers they pick, not those they pass
over, and each consumer still has its own independent chance each day, as in the per-agent engine.

* Dormant: each day the need comes round for each consumer with the category's daily chance; the
  picks are drawn over the whole population and those not dormant (or with no purchase cycle yet)
  are passed over.
* ZMOT and SMOT (geometric length): each member leaves with the stage's daily chance; since that
  is memoryless, the day one acts is drawn on entering (geometric) and kept in a calendar, so a day
  costs those who enter and leave, not the stage's members. One-day stages (Stimulus, FMOT, UMOT)
  act the next day.
  Each day's group acts in id order, the per-agent engine's order.
* Ads: each brand's ads are seen by each consumer with the chance ``rules.exposure_probability``
  gives it (independently of the other brands: the per-agent engine draws the same, first whether
  any ad is seen, then which), drawn per group of consumers of about the same attention with the
  group's largest chance and thinned to each one's own (``_stratify_ads``). An intervention on an
  ad intensity changes the chances from its day, nothing to redraw.
* Stories travel over the network's neighbour arrays (CSR), gathered for all of tonight's tellers
  at once; the fully mixed network draws a Poisson audience per story.
* The record keeps running stage counts and, per brand, the count of the aware and the sum of
  their attitudes, updated where they change.

The inner loops are compiled (:mod:`sim.kernels`, numba): the rules of :mod:`sim.rules` compiled from
the same functions, the draws from the same generator in the same order as the NumPy code they
replaced (the recorded tables stayed the same bytes). Here the day is put together: who is due, the
calendar, the counts recorded, the sums kept.

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
from .model import Market
from .network import LONG_GAPS, bernoulli_picks, bernoulli_plan

DORMANT, STIMULUS, ZMOT, FMOT, SMOT, UMOT = (int(s) for s in Stage)
_EMPTY = np.empty(0, dtype=np.int64)


kernels = None  # sim.kernels, imported when the first array market is built (numba is not needed before)


def _load_kernels() -> None:
    global kernels
    if kernels is None:
        from . import kernels as compiled
        kernels = compiled


def strata(chance: np.ndarray, ratio: float, waste: float = 500.0) -> list[tuple[np.ndarray, float]]:
    """Groups of consumers with about the same daily chance, to draw as one thinned Bernoulli process.

    Levels a factor ``ratio`` apart, neighbouring levels merged while that draws fewer than ``waste``
    more a day. Returns (members in id order, the group's largest chance); those with no chance are left out.
    """
    some = chance > 0
    if not some.any():
        return []
    low = float(chance[some].min())
    level = np.zeros(len(chance), dtype=np.int16)
    level[some] = 1 + np.minimum(np.log(chance[some] / low) / np.log(ratio), 1000).astype(np.int16)
    order = np.argsort(level, kind="stable")  # a radix sort of small integers: ids stay in order
    ends = np.cumsum(np.bincount(level)).tolist()
    levels = [order[start:end] for start, end in zip(ends[:-1], ends[1:]) if end > start]  # level 0: never
    groups, group, top = [], [], 0.0
    for members in levels:
        highest = float(chance[members].max())
        if group and sum(map(len, group)) * (highest - top) > waste:
            groups.append(group)
            group = []
        group.append(members)
        top = highest
    groups.append(group)
    merged = [np.sort(np.concatenate(g)) if len(g) > 1 else g[0] for g in groups]
    return [(members, float(chance[members].max())) for members in merged]


def draw_groups(groups: list[tuple[np.ndarray, float, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """Groups of (members, largest chance, members' chances over it) as :func:`sim.kernels.thinned_picks`
    draws them in one call: (offsets, how, scale, batch of each group's ``bernoulli_plan``, the ratios
    and the members end to end)."""
    plans = [bernoulli_plan(len(members), top) for members, top, _ in groups]
    assert all(how != LONG_GAPS for how, _, _ in plans)  # at most 2**53 members a group
    return (np.cumsum([0] + [len(members) for members, _, _ in groups]),
            np.array([how for how, _, _ in plans], dtype=np.int64), np.array([scale for _, scale, _ in plans]),
            np.array([batch for _, _, batch in plans], dtype=np.int64),
            np.concatenate([ratio for _, _, ratio in groups]) if groups else np.empty(0),
            np.concatenate([members for members, _, _ in groups]) if groups else _EMPTY)


class Calendar:
    """Who acts on a stage of geometric length which day (the day drawn on entering), for ``size``
    consumers, each in the stage at most once.

    A ring of ``days`` days in arrays, filled and emptied by compiled loops
    (:func:`sim.kernels.calendar_add`, :func:`sim.kernels.calendar_take`): a day's members fill blocks
    of ``width`` ids, chained. A day's blocks are full but its newest, and at most ``size`` days hold
    anyone, so ``size / width + min(days, size)`` blocks always suffice (a small market keeps a
    small calendar). The rare wait beyond the ring is kept by day in ``later``.
    """

    def __init__(self, size: int, days: int = 4096, width: int = 64):
        blocks = size // width + min(days, size) + 1
        self.head = np.full(days, -1, dtype=np.int64)
        self.size = np.zeros(days, dtype=np.int64)
        self.block = np.empty((blocks, width), dtype=np.int64)
        self.fill = np.zeros(blocks, dtype=np.int64)
        self.link = np.empty(blocks, dtype=np.int64)
        self.free, self.top = np.arange(blocks, dtype=np.int64), np.array([blocks], dtype=np.int64)
        self.later: dict[int, list[int]] = {}

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return self.head, self.size, self.block, self.fill, self.link, self.free, self.top

    def add(self, ids: np.ndarray, wait: np.ndarray, today: int) -> None:
        """``ids`` are due ``wait`` days from ``today`` (at least one day)."""
        far = kernels.calendar_add(ids, wait, today, *self._arrays())
        if far < 0:
            raise RuntimeError("a consumer entered a stage it was already in")
        if far:
            beyond = wait >= len(self.head)
            for who, day in zip(ids[beyond].tolist(), (wait[beyond] + today).tolist()):
                self.later.setdefault(day, []).append(who)

    def take(self, day: int) -> np.ndarray:
        """Who is due on ``day``, in id order: each day is taken once, in turn."""
        due = kernels.calendar_take(day, *self._arrays())
        later = self.later.pop(day, None)
        return np.sort(np.concatenate([due, np.array(later, dtype=np.int64)]) if later else due)


class ArrayMarketModel(Market):
    """The market with the population held in arrays: the same scenario, rules and recorded table.

    The constructor takes the same arguments as :class:`sim.model.MarketModel`.
    """

    AD_STRATUM_RATIO = 1.25  # consumers whose chances of an ad differ by less are thinned together
    AD_STRATUM_WASTE = 500  # ... and more, while that draws fewer than this many more a day

    FAST_NETWORK = True  # NumPy builders: a million consumers in about a second

    def _init_consumers(self) -> None:
        params, n = self.params, self.contacts.size
        _load_kernels()
        self.stage = np.zeros(n, dtype=np.int8)
        self.stage_count = np.zeros(len(Stage), dtype=np.int64)  # kept up to date by every move
        self.stage_count[DORMANT] = n
        # Whether a consumer has the category's purchase cycle (not yet, in a new category).
        self.cycling = np.full(n, not params["market.new_category"])
        self.last_brand = np.full(n, -1, dtype=np.int16)
        self.rebuy = np.zeros(n, dtype=bool)
        self.bought = np.full(n, -1, dtype=np.int16)
        self.satisfied = np.zeros(n, dtype=bool)
        self.last_satisfied = self.satisfied  # the per-agent engine's two flags are always equal
        self.recovered = np.zeros(n, dtype=bool)  # the last experience was saved by a resolved complaint
        self.rating = np.zeros(n, dtype=np.int8)
        # The daily chance of the need, drawn per group of consumers of about the same chance.
        self.need_strata = draw_groups([(members, top, self.need_chance[members] / top)
                                        for members, top in strata(self.need_chance, self.AD_STRATUM_RATIO)])
        self.aware_count = self.aware.sum(axis=0).astype(np.int64)
        self.attitude_sum = np.where(self.aware, self.attitude, 0.0).sum(axis=0)
        # Who acts on a stage tomorrow (one-day stages), and who is in a stage of geometric length.
        self.tomorrow: dict[int, list[np.ndarray]] = {STIMULUS: [], FMOT: [], UMOT: []}
        # A stage of geometric length: each member leaves it with the stage's daily chance, so the day
        # one acts on it is drawn on entering (geometric, memoryless: the same law as a daily draw).
        self.calendar = {ZMOT: Calendar(n), SMOT: Calendar(n)}
        self.clock = 0  # days lived, burn-in included (the calendar's days: day_number skips day 0)
        self.inbox = (_EMPTY, _EMPTY, _EMPTY)  # (listener, brand, stars) of tonight's stories
        self.outbox: list[tuple[np.ndarray, ...]] = []
        self._ad_intensities = None

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
        self.qualities = np.array([lv["quality"] for lv in self.levers], dtype=float)
        self.spreads = np.array([lv["quality_spread"] for lv in self.levers], dtype=float)
        self.failures = np.array([lv["failure_rate"] for lv in self.levers], dtype=float)
        self.recovery = np.array([lv["service_recovery"] for lv in self.levers], dtype=float)
        self.prompting = np.array([lv["review_prompting"] for lv in self.levers], dtype=float)
        intensities = [lv["ad_intensity"] for lv in self.levers]
        if intensities != self._ad_intensities:  # the chances of ads changed
            self._ad_intensities = intensities
            self._stratify_ads()

    def _stratify_ads(self) -> None:
        """Per brand, groups of consumers with about the same daily chance of seeing its ads.

        A brand's chance grows with attention (less than in proportion), so consumers are grouped by
        attention, once: levels a factor ``AD_STRATUM_RATIO`` apart, neighbouring levels merged while
        that wastes fewer than ``AD_STRATUM_WASTE`` draws a day (a small population: one or two
        groups; a million: several). Per brand, each group's largest chance, and its members' chances
        in the members' order, are refreshed when the ad intensities change.
        """
        if not hasattr(self, "_attention_strata"):
            self._attention_strata = self._attention_groups()
        # Every stratum worth drawing, brand by brand: its members' (consumer, brand) pairs by index into
        # the flat (consumers x brands) arrays, its largest chance, the members' chances over it.
        groups = [(b, members * self.n_brands + b, float(self.ad_exposure[top, b]),
                   self.ad_exposure[members, b] / self.ad_exposure[top, b])
                  for b in range(self.n_brands) for members, top in self._attention_strata
                  if self.ad_exposure[top, b] > 0]
        self.ad_strata = draw_groups([group[1:] for group in groups])
        self.ad_strata_brand = [group[0] for group in groups]

    def _attention_groups(self) -> list[tuple[np.ndarray, int]]:
        """(members in id order, the member with the most attention) of each attention group: the
        :func:`strata` of attention, merged while that draws fewer than AD_STRATUM_WASTE more ads a day."""
        rate = max(float(np.sum([lv["ad_intensity"] for lv in self.levers])), 0.01)  # ad chance per attention
        return [(members, int(members[np.argmax(self.attention[members])]))
                for members, _ in strata(self.attention, self.AD_STRATUM_RATIO, self.AD_STRATUM_WASTE / rate)]

    def _move(self, ids: np.ndarray, stage: int) -> None:
        """Put consumers (all in one stage today) into a one-day ``stage``: they act on it tomorrow."""
        count = len(ids)
        if not count:
            return
        self.stage_count[int(self.stage[ids[0]])] -= count
        self.stage_count[stage] += count
        self.stage[ids] = stage
        self.tomorrow[stage].append(ids)

    def _schedule(self, ids: np.ndarray, wait: np.ndarray, stage: int) -> None:
        """Enter consumers into a stage of geometric length's calendar: each acts on it ``wait`` days from
        today (drawn on entering, geometric: from tomorrow, each day's chance of leaving)."""
        if len(ids):
            self.calendar[stage].add(ids, wait, self.clock)

    def _due(self) -> dict[int, np.ndarray]:
        """Per stage, who acts on it today: all who entered a one-day stage yesterday; in a stage of
        geometric length, those whose day it is (drawn on entering, :meth:`_move`: the draws cost
        those who enter, not the stage's members).

        Each group in id order, the per-agent engine's order: it decides which of a night's reviews
        are the most recent ones read (many a night in a large population) and the order stories are
        told in; it also makes the gathers and scatters that follow run in memory order.
        """
        due = {}
        for stage, parts in self.tomorrow.items():
            due[stage] = np.sort(np.concatenate(parts)) if len(parts) > 1 else parts[0] if parts else _EMPTY
            self.tomorrow[stage] = []
        for stage, calendar in self.calendar.items():
            due[stage] = calendar.take(self.clock)
        return due

    def _count_ads(self, gained: np.ndarray, change: np.ndarray, per_brand: list[int]) -> None:
        """The aware's count and attitude sum of each brand after ads seen brand by brand (``per_brand``
        of them each): NumPy's sum of each brand's changes."""
        self.aware_count += gained
        start = 0
        for b, count in enumerate(per_brand):
            if count:
                self.attitude_sum[b] += change[start:start + count].sum()
            start += count

    # --- one day ----------------------------------------------------------------------

    def _live_day(self) -> None:
        self.clock += 1
        woken = self._wake([self._hear_stories(), self._see_ads(), self._remarket()])
        # Every group acts on its stage at the start of the day; what is shared is heard tomorrow.
        self._journey(self._due())
        self._move(woken, STIMULUS)
        self._deliver()

    def _dormant(self, ids: np.ndarray) -> np.ndarray:
        return self.stage[ids] == DORMANT

    def _ad_seen(self, ids: np.ndarray, brand: int) -> None:
        """Remarketing's ads of one brand (compiled, ``rules.move_attitude`` toward +1)."""
        n, change, gained = self.n_brands, np.empty(len(ids)), np.zeros(self.n_brands, dtype=np.int64)
        kernels.see_ads(ids * n + brand, n, self.aware.reshape(-1), self.last_ad.reshape(-1), self.attitude.reshape(-1),
                        int(self.day_number), float(self.params["ads.persuasion"]), change, gained)
        self._count_ads(gained, change, [len(ids) if b == brand else 0 for b in range(n)])

    def _forget(self) -> None:
        """Awareness fades (:meth:`Market._forget`), compiled."""
        if not self.forget_chance:
            return
        flat = bernoulli_picks(self.rng, self.aware.size, self.forget_chance, kernels.draw_picks)
        lost, change = np.zeros(self.n_brands, dtype=np.int64), np.zeros(self.n_brands)
        kernels.forget(flat, self.n_brands, self.aware.reshape(-1), self.purchases.reshape(-1),
                       self.attitude.reshape(-1), lost, change)
        self.aware_count -= lost
        self.attitude_sum += change

    def _wake(self, triggered: list[np.ndarray]) -> np.ndarray:
        """The dormant whose need comes round today (a daily chance, drawn for the few it picks) or
        whom an ad or a story triggered; each once, in id order."""
        picked = kernels.thinned_picks(self.rng, *self.need_strata, np.empty(len(self.need_strata[1]), np.int64))
        return kernels.wake(picked, np.concatenate(triggered).astype(np.int64, copy=False), self.stage, self.cycling)

    def _hear_stories(self) -> np.ndarray:
        """Yesterday's stories: awareness, attitude, maybe a new journey; who was triggered."""
        listener, brand, stars = self.inbox
        self.inbox = (_EMPTY, _EMPTY, _EMPTY)
        if not len(listener):
            return _EMPTY
        p = self.params
        # Stories are heard in the order told: one round per story a listener heard tonight (compiled).
        listener = kernels.hear_stories(listener.astype(np.int64, copy=False), brand, stars, self.n_brands,
                                        self.susceptibility, float(p["wom.weight"]), self.aware.reshape(-1),
                                        self.attitude.reshape(-1), self.aware_count, self.attitude_sum)
        return listener[self.rng.random(len(listener)) < p["wom.trigger"]]

    def _see_ads(self) -> np.ndarray:
        """Micro-moments: the ads seen today, what they do, and whom they trigger.

        Each brand's ads are seen by each consumer with the chance of ``rules.exposure_probability``
        (``ad_exposure``), independently of the other brands and of other days: per brand, a thinned
        Bernoulli process. In each stratum of :meth:`_stratify_ads`, consumers are picked with the
        stratum's largest chance (geometric gaps, so only the picks cost) and kept with their own
        chance over it. (The per-agent engine draws the same: first whether any ad is seen, then
        which brands', conditionally.)
        """
        n, p = self.n_brands, self.params
        # The (consumer, brand) pairs of the ads seen today, brand by brand (compiled: picked, seen, triggering).
        kept, gained = np.empty(len(self.ad_strata_brand), dtype=np.int64), np.zeros(n, dtype=np.int64)
        flat, change, triggered = kernels.ads_day(
            self.rng, *self.ad_strata, kept, n, self.aware.reshape(-1), self.last_ad.reshape(-1),
            self.attitude.reshape(-1), int(self.day_number), float(p["ads.persuasion"]), gained,
            float(p["journey.ad_trigger"]))
        if len(flat):
            per_brand = [0] * n
            for b, count in zip(self.ad_strata_brand, kept.tolist()):
                per_brand[b] += count
            self._count_ads(gained, change, per_brand)
        return triggered

    def _journey(self, due: dict[int, np.ndarray]) -> None:
        """Every group acts on its stage, in the journey's order: Stimulus (a satisfied customer may go
        straight back to the brand: the loyalty loop), the end of research (ZMOT: discover brands, read
        reviews, form expectations), the shelf (FMOT: buy a brand or walk away), the end of use (SMOT:
        experience against expectation; service may save it), sharing (UMOT: tell contacts, post a
        review, both, or stay silent; then dormant again).

        Compiled in two calls (:func:`sim.kernels.to_the_shelf`, :func:`sim.kernels.from_the_shelf`)
        with NumPy's exponential of the choice between them; here, what they counted is recorded and
        the groups are put in the calendar.
        """
        p, n, rng, w = self.params, self.n_brands, self.rng, self.choice_weights
        stimulus, researching, shopping, using, sharing = due[STIMULUS], due[ZMOT], due[FMOT], due[SMOT], due[UMOT]
        aware, attitude, expectation = self.aware.reshape(-1), self.attitude.reshape(-1), self.expectation.reshape(-1)
        displayed = self.reviews.displayed()  # what the platform shows: count and average, per brand
        review_count = np.array([count for count, _ in displayed], dtype=float)
        review_signal = np.array([rules.rating_signal(rating, p["reviews.reference_rating"], p["reviews.rating_scale"])
                                  for _, rating in displayed], dtype=float)
        research_change, gained = np.empty((n, len(researching))), np.zeros(n, dtype=np.int64)
        back, into, research_days, loyal, loyal_brand, others, u_choice, weights = kernels.to_the_shelf(
            rng, n, stimulus, researching, self.stage, self.stage_count, self.rebuy, self.satisfied, self.last_brand,
            float(p["journey.loyal_skip_research"]), float(self.leave_research), float(p["journey.discovery"]), aware,
            attitude, expectation, self.last_ad.reshape(-1), review_count, review_signal, float(p["reviews.weight"]),
            self.susceptibility, float(p["reviews.half_count"]), int(self.day_number), float(p["ads.hype_days"]),
            self._hype, float(p["expectation.neutral"]), float(p["expectation.attitude_weight"]), research_change,
            gained, shopping, np.log(self.prices / w["reference_price"]), float(w["attitude_weight"]),
            float(w["price_weight"]), float(w["loyalty_bonus"]), float(w["walk_away_utility"]))
        if len(back):
            self.tomorrow[FMOT].append(back)
        self._schedule(into, research_days, ZMOT)
        if len(researching):
            self.aware_count += gained
            for b in range(n):  # NumPy's sum of each brand's changes, as a vectorised day summed them
                self.attitude_sum[b] += research_change[b].sum()
            self.tomorrow[FMOT].append(researching)
        sales, service, talk = (np.zeros((2, n), dtype=np.int64), np.zeros((2, n), dtype=np.int64),
                                np.zeros((3, n), dtype=np.int64))
        star_counts, totals, experience_change = np.zeros(6, dtype=np.int64), np.zeros(4, dtype=np.int64), np.zeros(n)
        walked, buyers, use_days, teller, brand, stars, told, posted = kernels.from_the_shelf(
            rng, n, loyal, loyal_brand, others, np.exp(weights, out=weights), u_choice, self.stage, self.stage_count,
            self.last_brand, self.satisfied, self.recovered, self.purchases.reshape(-1), self.bought, self.cycling,
            self.rebuys_after, sales, float(self.leave_experience), using, self.qualities, self.spreads, self.failures,
            self.recovery, expectation, attitude, float(p["experience.tolerance"]), float(p["experience.delight"]),
            float(p["experience.star_step"]), float(p["service.complaint_rate"]), int(p["experience.recovered_rating"]),
            float(p["experience.weight"]), self.rating, service, star_counts, experience_change, sharing,
            self.propensity, self.talk_weight, self.prompting, float(p["sharing.negative_multiplier"]),
            float(p["sharing.public_fraction"]), talk, totals)
        d = self.day
        walk_aways, adopters, happy, unhappy = totals.tolist()
        d.walk_aways += walk_aways
        if walk_aways:
            self.walked_today = walked
        self.adopters += adopters
        for b, (sold, kept) in enumerate(zip(*sales.tolist())):
            d.purchases[b] += sold
            d.revenue[b] += float(sold * self.levers[b]["price"])
            d.retentions[b] += kept
            d.acquisitions[b] += sold - kept
        self._schedule(buyers, use_days, SMOT)
        if len(using):
            for b, (recoveries, complaints) in enumerate(zip(*service.tolist())):
                d.recoveries[b] += recoveries
                d.complaints[b] += complaints
            for count_stars, count in enumerate(star_counts.tolist()):
                d.experience_stars[count_stars] += count
            d.satisfied += happy
            d.dissatisfied += unhappy
            self.attitude_sum += experience_change  # np.bincount's sum per brand, one by one
            self.tomorrow[UMOT].append(using)
        if len(sharing):
            for b, (positive, negative, asked) in enumerate(zip(*talk.tolist())):
                d.shares_positive[b] += positive
                d.shares_negative[b] += negative
                d.prompts[b] += asked
            self.outbox.append((teller, brand, stars, told, posted))

    def _deliver(self) -> None:
        """Tonight: reviews join the public pool, stories reach the contacts who meet them."""
        if not self.outbox:
            self.inbox = (_EMPTY, _EMPTY, _EMPTY)
            return
        teller, brand, stars, private, public = (np.concatenate(x) for x in zip(*self.outbox))
        self.outbox.clear()
        self.reviews.add_many(brand[public], stars[public])
        teller, brand, stars = teller[private], brand[private], stars[private]
        contacts = self.contacts
        if contacts.mixed:
            count = (self.rng.poisson(contacts.mean_degree, size=len(teller)) if contacts.size >= 2
                     else np.zeros(len(teller), dtype=np.int64))
            story = np.repeat(np.arange(len(teller)), count)
            others = self.rng.integers(0, max(contacts.size - 1, 1), size=len(story))
            audience = others + (others >= teller[story])  # uniform over everyone but the teller
            met = self.rng.random(len(audience)) < self.meeting[audience]
            self.inbox = (audience[met], brand[story[met]], stars[story[met]])
        else:  # each teller's contacts in the network's order, each meets the story or not (compiled)
            contacts_told = int((contacts.indptr[teller + 1] - contacts.indptr[teller]).sum())
            self.inbox = kernels.meet_stories(teller, brand, stars, contacts.indptr, contacts.indices,
                                              self.rng.random(contacts_told), self.meeting)
