"""The journey model in its Bass limit follows the Bass (1969) closed form."""

import numpy as np
import pytest
from scipy import stats

from sim.validation import bass_closed_form, bass_table, bass_with_daily_stages

P, Q, YEARS, POPULATION, REPLICATES = 0.1, 1.2, 4.0, 2000, 8
# The largest gap over the whole curve is compared, about ten roughly independent stretches of it,
# in standard errors estimated from the replicates themselves (Student's t with R - 1 degrees of
# freedom): a false alarm on a stretch has a chance of 1e-4, about 1e-3 over the curve.
Z = float(stats.t.ppf(1 - 1e-4 / 2, REPLICATES - 1))


@pytest.fixture(scope="module")
def runs():
    tables = [bass_table(P, Q, POPULATION, YEARS, seed=s) for s in range(REPLICATES)]
    simulated = np.array([table["simulated"].to_numpy() for table in tables])
    se = simulated.std(axis=0, ddof=1) / np.sqrt(REPLICATES)
    se = np.maximum(se, 0.5 / POPULATION)  # no zero standard error on day 0
    return tables[0], simulated.mean(axis=0), se


def test_the_simulation_follows_the_bass_process_on_whole_days(runs):
    first, mean, se = runs
    gap = np.abs(mean - first["daily_stages"].to_numpy())
    assert np.all(gap <= Z * se), f"largest gap {gap.max():.4f}"


def test_the_mean_adoption_curve_follows_the_closed_form(runs):
    first, mean, se = runs
    closed = first["closed_form"].to_numpy()
    stages_effect = np.abs(first["daily_stages"].to_numpy() - closed)  # what one-day stages add
    assert stages_effect.max() < 0.01
    gap = np.abs(mean - closed)
    assert np.all(gap <= Z * se + stages_effect), f"largest gap {gap.max():.4f}"
    assert mean[-1] > 0.9  # it does diffuse


@pytest.mark.parametrize("wrong_p, wrong_q", [(P, Q * 0.85), (P * 0.6, Q), (P, Q * 1.15)])
def test_the_comparison_tells_other_coefficients_apart(runs, wrong_p, wrong_q):
    first, mean, se = runs
    closed = first["closed_form"].to_numpy()
    stages_effect = np.abs(first["daily_stages"].to_numpy() - closed)
    wrong = bass_closed_form(first["t_years"].to_numpy(), wrong_p, wrong_q)
    assert np.any(np.abs(mean - wrong) > Z * se + stages_effect)


def test_the_closed_form_is_the_bass_curve():
    t = np.array([0.0, 1.0, 5.0])
    p, q = 0.03, 0.38
    expected = (1 - np.exp(-(p + q) * t)) / (1 + q / p * np.exp(-(p + q) * t))
    assert bass_closed_form(t, p, q) == pytest.approx(expected)
    assert bass_closed_form(0.0, p, q) == 0.0
    assert bass_closed_form(1000.0, p, q) == pytest.approx(1.0)


def test_the_daily_process_tends_to_the_closed_form_when_diffusion_is_slow():
    # The journey's days matter less the slower the diffusion: the gap shrinks with p and q.
    gaps = []
    for scale in (1.0, 0.25):
        p, q, days = 0.1 * scale, 1.2 * scale, int(4 * 365 / scale)
        t = np.arange(days + 1) / 365
        gaps.append(np.abs(bass_with_daily_stages(p, q, days, 1000) - bass_closed_form(t, p, q)).max())
    assert gaps[1] < gaps[0] / 3
