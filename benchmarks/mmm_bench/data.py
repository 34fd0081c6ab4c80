"""Benchmark data beyond ``make_mixture_mmm_data``: separated segments, lift tests.

:func:`make_separated_data` is the ``separated`` mode's data: the generator of
:func:`pmm_mixture.synthetic.make_mixture_mmm_data` (spend, adstock, baseline,
betas and noise from the same seed and random streams) with every channel's
segments drawn by :func:`pmm_mixture.synthetic.well_separated_segments`
instead: neighbouring half-saturation points at least 4x apart, slopes at
least 2.5. ``pmm_mixture.synthetic`` has no public entry point for segment
shapes of one's choosing, so this calls its private ``_generate`` with the
shapes as overrides (as its own ``make_two_segment_data`` and
``make_geo_panel_data`` do); a public hook there would replace it.

:func:`lift_test_table` builds the lift tests of the ``lift`` tier from the
truth of the data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .specs import LIFT_DELTA, LIFT_LEVELS, LIFT_SIGMA, MIN_KAPPA_RATIO, NOISE

#: Adstock length of every benchmark data set (``make_mixture_mmm_data``'s).
L_MAX = 6
#: Second entry of the seed sequence of the separated segment shapes, so that
#: they come from their own stream and the spend, baseline and noise of a seed
#: are those of the aggregate data of the same seed and K_true.
SEGMENT_STREAM = 4


def separated_segments(
    k_true: int,
    n_channels: int,
    seed: int,
    min_ratio: float = MIN_KAPPA_RATIO,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(weights, kappa_frac, slope)`` of each channel's ``k_true`` segments.

    ``kappa_frac`` is a fraction of the channel's largest adstocked spend; see
    :func:`pmm_mixture.synthetic.well_separated_segments`.
    """
    from pmm_mixture.synthetic import well_separated_segments

    rng = np.random.default_rng([seed, SEGMENT_STREAM])
    return [well_separated_segments(k_true, rng, min_ratio) for _ in range(n_channels)]


def make_separated_data(
    k_true: int,
    *,
    n_channels: int = 3,
    n_weeks: int = 156,
    noise: float = NOISE,
    seed: int = 0,
    min_ratio: float = MIN_KAPPA_RATIO,
):
    """Aggregate-mode data whose ``k_true`` segments per channel are separated.

    Parameters
    ----------
    k_true : int
        Segments of every channel.
    n_channels, n_weeks, noise, seed
        As in :func:`pmm_mixture.synthetic.make_mixture_mmm_data` (channels
        ``x1``, ``x2``, ...; ``l_max`` 6).
    min_ratio : float, default 4.0
        Smallest ratio of neighbouring half-saturation points.

    Returns
    -------
    SyntheticMMMData
        Spend, adstock, baseline and noise as the aggregate data of the same
        ``seed`` and ``k_true``; the segment shapes from
        :func:`separated_segments` (betas follow from them, as there).
    """
    from pmm_mixture.synthetic import _generate

    shapes = separated_segments(k_true, n_channels, seed, min_ratio)
    overrides = {
        c: {"weights": w, "kappa_frac": kappa, "slope": slope}
        for c, (w, kappa, slope) in enumerate(shapes)
    }
    return _generate(
        [k_true] * n_channels,
        n_weeks=n_weeks,
        mode="aggregate",
        l_max=L_MAX,
        noise=float(noise),
        seed=seed,
        names=[f"x{c + 1}" for c in range(n_channels)],
        overrides=overrides,
    )


def lift_test_table(
    data,
    levels: Sequence[float] = LIFT_LEVELS,
    delta: float = LIFT_DELTA,
    sigma: float = LIFT_SIGMA,
    n_train: int | None = None,
) -> pd.DataFrame:
    """Lift tests of every channel at the given spend levels, from the truth.

    A lift test measures the steady-state response to a sustained change of
    weekly spend: with a constant spend the normalised adstock equals that
    spend, so the true lift is the channel's curve (in adstocked spend
    units, the saturation's input, as PyMC-Marketing's lift tests are
    defined) at ``x + delta_x`` less that at ``x``. Per channel and level
    ``q``: ``x = q * S`` and ``delta_x = delta * S``, ``S`` the channel's
    largest weekly spend (in the first ``n_train`` weeks, all by default);
    ``delta_y = curve(x + delta_x) - curve(x)`` (``ChannelTruth.curve``) and
    ``sigma`` the standard error, ``sigma * delta_y``: the measurement is the
    truth, its stated error a fraction of it.

    Parameters
    ----------
    data : SyntheticMMMData
    levels : sequence of float, default (0.25, 0.9)
    delta : float, default 0.1
    sigma : float, default 0.1
    n_train : int, optional
        Weeks the largest spend is read from (the training weeks).

    Returns
    -------
    pandas.DataFrame
        Columns ``channel``, ``x``, ``delta_x``, ``delta_y``, ``sigma`` (the
        table of ``MMM.add_lift_test_measurements``, original units) and
        ``level``.
    """
    spend = data.data[data.channel_columns]
    if n_train is not None:
        spend = spend.iloc[:n_train]
    rows = []
    for channel in data.channel_columns:
        largest = float(spend[channel].max())
        truth = data.channels[channel]
        for level in levels:
            x = float(level) * largest
            delta_x = float(delta) * largest
            delta_y = float(truth.curve(x + delta_x) - truth.curve(x))
            rows.append(
                {
                    "channel": channel,
                    "x": x,
                    "delta_x": delta_x,
                    "delta_y": delta_y,
                    "sigma": float(sigma) * delta_y,
                    "level": float(level),
                }
            )
    table = pd.DataFrame(rows)
    if not (table["sigma"] > 0).all():
        flat = table.loc[~(table["sigma"] > 0), ["channel", "level"]]
        raise ValueError(f"True lift not positive for {flat.to_dict('records')}.")
    return table
