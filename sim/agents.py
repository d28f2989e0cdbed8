"""Consumer agents: one consumer's day on the customer journey.

Each method says what happens at one moment of truth and calls the rules in
:mod:`sim.rules`; the agent keeps only what it knows and remembers. Per-brand
knowledge (awareness, attitude, expectation, purchases) is a row of the
model's population arrays, so the model can record the whole population at
once and the rows read like plain per-consumer lists.

A day is synchronous: what a consumer shares today reaches others tomorrow
(the model delivers stories and reviews after everyone has acted).
"""

from __future__ import annotations

from enum import IntEnum

import mesa

from . import rules


class Stage(IntEnum):
    DORMANT = 0
    STIMULUS = 1
    ZMOT = 2
    FMOT = 3
    SMOT = 4
    UMOT = 5


class Consumer(mesa.Agent):
    """A consumer: a segment, a channel mix, traits, and what it knows of each brand."""

    def __init__(self, model, index: int, young: bool, attention: float, propensity: float,
                 susceptibility: float, need_chance: float):
        super().__init__(model)
        self.index = index
        self.young = young
        self.attention = attention  # daily exposure to media, from segment and channel mix
        self.propensity = propensity  # personal chance of sharing an experience
        self.susceptibility = susceptibility  # weight given to others' experiences
        self.stage = Stage.DORMANT
        # Per-brand rows of the model's population arrays (views: writes go to the model).
        self.aware = model.aware[index]
        self.attitude = model.attitude[index]
        self.expectation = model.expectation[index]
        self.purchases = model.purchases[index]
        self.last_ad = model.last_ad[index]  # the day one last saw each brand's ads
        self.draw = model.random.random  # the model's uniform draws, without a property lookup
        self.ad_chances: tuple[float, ...] = ()  # chance of seeing each brand's ads today (set by the model)
        self.ad_any = 0.0  # chance of seeing at least one
        self.inbox: list[tuple[int, float]] = []  # (brand, stars) of stories heard yesterday
        self.triggered = False  # an ad or a story started a journey today
        self.cycle_chance = need_chance  # daily chance of the need, once one has the purchase cycle
        self.need_chance = 0.0 if model.params["market.new_category"] else need_chance
        self.last_brand = -1  # brand of the last purchase, -1 if none
        self.last_satisfied = False
        self.last_recovered = False  # the last experience was saved by a resolved complaint
        self.rebuy = False  # loyalty loop: going straight to the shelf for the last brand
        self.bought = -1  # brand in use (SMOT) and being talked about (UMOT)
        self.satisfied = False
        self.rating = 0  # whole stars one would give the brand in use

    # --- every day, in every stage --------------------------------------------

    def step(self) -> None:
        if self.inbox:
            self.hear_stories()
        if self.draw() < self.ad_any:  # most days no ad gets through: one draw decides it
            self.see_ads()
        ACTIONS[self.stage](self)

    def hear_stories(self) -> None:
        """Contacts' stories met yesterday: awareness, attitude, maybe a new journey."""
        m = self.model
        weight = m.params["wom.weight"] * self.susceptibility
        for brand, stars in self.inbox:
            self.aware[brand] = True
            self.attitude[brand] = rules.move_attitude(float(self.attitude[brand]),
                                                       rules.stars_signal(stars), weight)
            if self.draw() < m.params["wom.trigger"]:
                self.triggered = True
        self.inbox.clear()

    def see_ads(self) -> None:
        """Micro-moments: at least one brand's ads reached the consumer today; which, and what it does."""
        m = self.model
        for brand in ads_seen(self.ad_chances, self.draw):
            self.aware[brand] = True
            self.last_ad[brand] = m.day_number
            self.attitude[brand] = rules.move_attitude(float(self.attitude[brand]), 1.0,
                                                       m.params["ads.persuasion"])
            if self.draw() < m.params["journey.ad_trigger"]:
                self.triggered = True

    # --- the journey, one moment of truth a method ------------------------------

    def wait_for_need(self) -> None:
        """Dormant: the purchase cycle comes round, or an ad or a story starts a journey."""
        if self.triggered or self.draw() < self.need_chance:
            self.stage = Stage.STIMULUS
        self.triggered = False

    def respond_to_stimulus(self) -> None:
        """Stimulus: a satisfied customer may go straight back to the brand (loyalty loop)."""
        self.triggered = False
        loyal = self.last_satisfied and self.last_brand >= 0
        if loyal and self.draw() < self.model.params["journey.loyal_skip_research"]:
            self.rebuy = True
            self.stage = Stage.FMOT
        else:
            self.stage = Stage.ZMOT

    def research(self) -> None:
        """ZMOT: search, read reviews, form an attitude and an expectation per brand."""
        self.triggered = False
        m, p = self.model, self.model.params
        if self.draw() >= m.leave_research:
            return
        for brand in range(m.n_brands):
            if not self.aware[brand] and self.draw() < p["journey.discovery"]:
                self.aware[brand] = True
            count, rating = m.displayed_reviews[brand]  # what the platform shows: average and count
            if self.aware[brand] and count:
                weight = rules.review_weight(p["reviews.weight"], self.susceptibility, float(count),
                                             p["reviews.half_count"])
                signal = rules.rating_signal(rating, p["reviews.reference_rating"], p["reviews.rating_scale"])
                self.attitude[brand] = rules.move_attitude(float(self.attitude[brand]), signal, weight)
            # Expected of every brand, known or not: a brand met after research is judged by it too.
            self.expectation[brand] = self.expect(brand)
        self.stage = Stage.FMOT

    def expect(self, brand: int) -> float:
        """The quality one expects of a brand now: attitude, and the brand's promise if one saw its ads."""
        m, p = self.model, self.model.params
        hype = m.hype[brand] if rules.hype_seen(int(self.last_ad[brand]), m.day_number, p["ads.hype_days"]) else 0.0
        return rules.expectation(float(self.attitude[brand]), hype, p["expectation.neutral"],
                                 p["expectation.attitude_weight"])

    def choose(self) -> None:
        """FMOT: at the shelf, buy a brand or walk away."""
        self.triggered = False
        m = self.model
        if self.rebuy:  # the loyalty loop: no research, one expects what one's own experience taught
            brand = self.last_brand
            self.expectation[brand] = self.expect(brand)
            self.rebuy = False
        else:
            loyal_to = [float(self.last_satisfied and b == self.last_brand) for b in range(m.n_brands)]
            probabilities = rules.choice_probabilities(self.attitude.tolist(), self.aware.tolist(),
                                                       m.price_list, loyal_to, **m.choice_weights)
            brand = rules.pick(probabilities, self.draw())
        if brand >= m.n_brands:  # walked away: the need stays unmet until it comes round again
            m.day.walk_aways += 1
            m.walked_today.append(self.index)
            self.stage = Stage.DORMANT
            return
        retained = rules.is_retention(self.last_brand, brand)
        m.record_purchase(brand, retained=retained, first=self.last_brand < 0)
        if self.last_satisfied and self.last_brand >= 0:
            m.rebuys_after[int(self.last_recovered), int(retained)] += 1
        self.purchases[brand] += 1
        self.bought = brand
        self.need_chance = self.cycle_chance  # a customer now has the category's purchase cycle
        self.stage = Stage.SMOT

    def experience(self) -> None:
        """SMOT: the product in use, judged against the expectation; service may save it."""
        self.triggered = False
        m, p = self.model, self.model.params
        if self.draw() >= m.leave_experience:
            return
        brand = self.bought
        levers = m.levers[brand]
        lived = rules.experience(levers["quality"], levers["quality_spread"], self.random.gauss(0.0, 1.0),
                                 self.draw() < levers["failure_rate"])
        expected = float(self.expectation[brand])
        self.satisfied = bool(rules.is_satisfied(lived, expected, p["experience.tolerance"]))
        self.rating = rules.stars(lived, expected, p["experience.tolerance"], p["experience.delight"],
                                  p["experience.star_step"])
        recovered = False
        if not self.satisfied:  # a complaint, maybe, and maybe resolved: two draws, as the array engine
            complained, recovered = rules.service_outcome(False, self.draw(), self.draw(),
                                                          p["service.complaint_rate"], levers["service_recovery"])
            m.day.complaints[brand] += complained
            if recovered:
                self.satisfied = True
                self.rating = p["experience.recovered_rating"]
                m.day.recoveries[brand] += 1
        m.day.count_experience(self.satisfied, self.rating)
        self.attitude[brand] = rules.move_attitude(float(self.attitude[brand]),
                                                   rules.stars_signal(self.rating), p["experience.weight"])
        self.last_brand = brand
        self.last_satisfied = self.satisfied
        self.last_recovered = recovered
        self.stage = Stage.UMOT

    def share(self) -> None:
        """UMOT: tell contacts, post a review, both, or stay silent."""
        self.triggered = False
        m, p = self.model, self.model.params
        brand = self.bought
        spontaneous, prompted = rules.share_probabilities(
            self.propensity, m.talk_weight[self.rating], float(self.satisfied), p["sharing.negative_multiplier"],
            m.levers[brand]["review_prompting"])
        u = self.draw()
        if u < spontaneous:
            m.tell(self.index, brand, self.rating, self.satisfied, private=True,
                   public=self.draw() < p["sharing.public_fraction"])
        else:
            if m.levers[brand]["review_prompting"] > 0:  # the brand asks those who did not share on their own
                m.day.prompts[brand] += 1
            if u < spontaneous + prompted:
                m.tell(self.index, brand, self.rating, self.satisfied, private=False, public=True)
        self.bought = -1
        self.stage = Stage.DORMANT


def ads_seen(chances: tuple[float, ...], draw) -> list[int]:
    """Brands whose ads are seen, given that at least one is: exact sequential conditioning.

    Brand b is seen with chance p_b / P(at least one of b, b+1, ... seen) while
    none has been seen yet, and with chance p_b once one has.
    """
    seen: list[int] = []
    none_from = rules.none_seen_after(chances)
    for b, chance in enumerate(chances):
        if chance <= 0.0:
            continue
        if draw() < rules.ad_seen_probability(chance, none_from[b], bool(seen)):
            seen.append(b)
    return seen


# What a consumer does today, by the stage it is in (indexed by Stage).
ACTIONS = (Consumer.wait_for_need, Consumer.respond_to_stimulus, Consumer.research, Consumer.choose,
           Consumer.experience, Consumer.share)
