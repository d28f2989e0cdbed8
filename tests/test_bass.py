"""The journey model in its Bass limit follows the Bass (1969) closed form."""

import numpy as np
import pytest

from sim.validation import bass_closed_form, bass_lag_days, bass_table

P, Q, YEARS, POPULATION, REPLICATES = 0.1, 1.2, 4.0, 1000, 8
Z = 3.0


@pytest.fixture(scope="module")
def replicates():
    tables = [bass_table(P, Q, POPULATION, YEARS, seed=s) for s in range(REPLICATES)]
    t = tables[0]["t_years"].to_numpy()
    simulated = np.array([table["simulated"].to_numpy() for table in tables])
    return t, simulated


def tolerance(t, simulated, p, q):
    """Z standard errors of the replicate mean, plus the delay the journey's one-day stages add.

    Each stage takes at least a day, so an adopter's influence reaches the next
    adopter a few days later than in Bass's continuous time: the simulated curve
    is the closed form shifted by at most ``bass_lag_days`` (docs/validation.md).
    """
    se = simulated.std(axis=0, ddof=1) / np.sqrt(len(simulated))
    se = np.maximum(se, np.sqrt(0.25 / (POPULATION * len(simulated))) / 10)  # no zero SE at t = 0
    slope = (p + q * bass_closed_form(t, p, q)) * (1 - bass_closed_form(t, p, q))  # dF/dt, a year
    return Z * se + slope * bass_lag_days(t, q) / 365.0


def test_the_mean_adoption_curve_follows_the_closed_form(replicates):
    t, simulated = replicates
    gap = np.abs(simulated.mean(axis=0) - bass_closed_form(t, P, Q))
    assert np.all(gap <= tolerance(t, simulated, P, Q)), f"largest gap {gap.max():.4f}"
    assert simulated.mean(axis=0)[-1] > 0.9  # it does diffuse


@pytest.mark.parametrize("wrong_p, wrong_q", [(P, Q * 0.7), (P * 0.5, Q), (P, Q * 1.3)])
def test_the_comparison_can_tell_other_coefficients_apart(replicates, wrong_p, wrong_q):
    t, simulated = replicates
    gap = np.abs(simulated.mean(axis=0) - bass_closed_form(t, wrong_p, wrong_q))
    assert np.any(gap > tolerance(t, simulated, wrong_p, wrong_q))


def test_the_closed_form_is_the_bass_curve():
    t = np.array([0.0, 1.0, 5.0])
    p, q = 0.03, 0.38
    expected = (1 - np.exp(-(p + q) * t)) / (1 + q / p * np.exp(-(p + q) * t))
    assert bass_closed_form(t, p, q) == pytest.approx(expected)
    assert bass_closed_form(0.0, p, q) == 0.0
    assert bass_closed_form(1000.0, p, q) == pytest.approx(1.0)
