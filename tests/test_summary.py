"""Component tables, curves, diagnostics and plots on hand-made posteriors."""

import matplotlib
import matplotlib.pyplot
import numpy as np
import pytest
import xarray as xr

from pmm_mixture.comparison import compare_models
from pmm_mixture.curves import mixture_curves, observed_spend_range
from pmm_mixture.diagnostics import (
    check_convergence,
    label_invariant_diagnostics,
    n_divergences,
)
from pmm_mixture.hill import hill
from pmm_mixture.plot import (
    plot_channel_curves,
    plot_effective_components,
    plot_weights_forest,
)
from pmm_mixture.summary import (
    active_components,
    component_table,
    effective_components,
    segment_report,
    weights_entropy_components,
)

matplotlib.use("Agg")

CHANNELS = ["tv", "search"]
N_CHAINS, N_DRAWS = 4, 250


def make_idata(seed=0, stuck_chain=False):
    """Posterior of a 2-channel, 3-component mixture with known values.

    tv: one segment (weights ~ (0.97, 0.02, 0.01)); search: two equal
    segments (~ (0.5, 0.48, 0.02)).
    """
    rng = np.random.default_rng(seed)
    shape = (N_CHAINS, N_DRAWS)
    base = np.array([[0.97, 0.02, 0.01], [0.5, 0.48, 0.02]])
    noise = rng.normal(0, 0.01, size=(*shape, 2, 3))
    weights = np.clip(base + noise, 1e-6, None)
    weights /= weights.sum(-1, keepdims=True)
    kappa = np.array([[0.3, 0.9, 2.0], [0.1, 0.5, 1.5]]) * np.exp(
        rng.normal(0, 0.02, size=(*shape, 2, 3))
    )
    slope = np.full((*shape, 2, 3), 2.0) + rng.normal(0, 0.05, size=(*shape, 2, 3))
    beta = np.array([0.3, 0.4]) + rng.normal(0, 0.01, size=(*shape, 2))
    if stuck_chain:
        beta[0] += 0.2
    coords = {
        "chain": np.arange(N_CHAINS),
        "draw": np.arange(N_DRAWS),
        "channel": CHANNELS,
        "component": [0, 1, 2],
        "date": np.arange(5),
    }
    cd = ("chain", "draw", "channel", "component")
    posterior = xr.Dataset(
        {
            "saturation_weights": (cd, weights),
            "saturation_kappa": (cd, kappa),
            "saturation_slope": (cd, slope),
            "saturation_beta": (("chain", "draw", "channel"), beta),
            "channel_contribution": (
                ("chain", "draw", "date", "channel"),
                np.repeat(beta[:, :, None, :], 5, axis=2) * 0.5,
            ),
        },
        coords=coords,
    )
    constant = xr.Dataset(
        {
            "channel_scale": ("channel", [1000.0, 200.0]),
            "target_scale": ((), 50.0),
            "channel_data": (
                ("date", "channel"),
                np.array([[0, 10], [500, 0], [1000, 200], [250, 50], [750, 100.0]]),
            ),
        },
        coords={"channel": CHANNELS, "date": np.arange(5)},
    )
    stats = xr.Dataset(
        {"diverging": (("chain", "draw"), np.zeros(shape, dtype=bool))},
        coords={"chain": coords["chain"], "draw": coords["draw"]},
    )
    return xr.DataTree.from_dict(
        {"/posterior": posterior, "/constant_data": constant, "/sample_stats": stats}
    )


def test_entropy_components_known_values():
    w = xr.DataArray(
        [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]],
        dims=("channel", "component"),
    )
    np.testing.assert_allclose(weights_entropy_components(w), [1.0, 2.0, 3.0])


def test_effective_components_recovers_segments():
    table = effective_components(make_idata(), threshold=0.05)
    assert table.loc["tv", "n_active"] == 1
    assert table.loc["search", "n_active"] == 2
    assert table.loc["tv", "n_entropy_median"] == pytest.approx(1.16, abs=0.05)
    assert table.loc["search", "n_entropy_median"] == pytest.approx(2.1, abs=0.1)
    assert (table["n_entropy_hdi_low"] <= table["n_entropy_median"]).all()
    assert (table["n_entropy_median"] <= table["n_entropy_hdi_high"]).all()
    # symmetric noise: the mean, listed beside, is close to the median
    np.testing.assert_allclose(
        table["n_entropy_mean"], table["n_entropy_median"], atol=0.02
    )


def test_component_table_values_and_spend_units():
    idata = make_idata()
    table = component_table(idata, threshold=0.05)
    assert list(table.index.names) == ["channel", "component"]
    assert table.shape[0] == 6
    search = table.loc["search"]
    assert search.loc[0, "weight_median"] == pytest.approx(0.5, abs=0.01)
    assert search.loc[1, "kappa_median"] == pytest.approx(0.5, rel=0.01)
    # kappa in spend units is kappa times the channel scale (200 for search)
    assert search.loc[1, "kappa_spend_median"] == pytest.approx(
        200 * search.loc[1, "kappa_median"], rel=1e-12
    )
    assert search["active"].tolist() == [True, True, False]
    assert table.loc["tv"]["active"].tolist() == [True, False, False]
    for name in ("weight", "kappa", "slope", "kappa_spend"):
        assert (table[f"{name}_hdi_low"] <= table[f"{name}_median"]).all()
        assert (table[f"{name}_median"] <= table[f"{name}_hdi_high"]).all()
        assert f"{name}_mean" in table.columns


def skewed_idata():
    """One channel, three components; weights with a known median and mean.

    Of 10 draws, 6 have weights (0.53, 0.41, 0.06) and 4 have (0.40, 0.30,
    0.30): medians 0.53, 0.41, 0.06 (the 5th and 6th sorted draws agree),
    means 0.478, 0.366, 0.156. kappa and slope are the same in every draw.
    """
    rows = np.array([[0.53, 0.41, 0.06]] * 6 + [[0.40, 0.30, 0.30]] * 4)
    weights = rows[None, :, None, :]  # chain, draw, channel, component
    dims = ("chain", "draw", "channel", "component")
    coords = {"channel": ["search"], "component": [0, 1, 2]}
    posterior = xr.Dataset(
        {
            "saturation_weights": (dims, weights),
            "saturation_kappa": (dims, np.full(weights.shape, [0.1, 0.4, 0.9])),
            "saturation_slope": (dims, np.full(weights.shape, 2.0)),
        },
        coords=coords,
    )
    scale = xr.Dataset(
        {"channel_scale": ("channel", [1000.0])}, coords={"channel": ["search"]}
    )
    return xr.DataTree.from_dict({"/posterior": posterior, "/constant_data": scale})


def test_tables_agree_on_medians_and_show_means_beside():
    idata = skewed_idata()
    table = component_table(idata).loc["search"]
    np.testing.assert_allclose(table["weight_median"], [0.53, 0.41, 0.06])
    np.testing.assert_allclose(table["weight_mean"], [0.478, 0.366, 0.156])
    assert table["active"].tolist() == [True, True, True]
    report = segment_report(idata)
    segments = report.segments.loc["search"]
    # the same numbers for the same quantity in both tables
    np.testing.assert_array_equal(segments["share"], table["weight_median"])
    np.testing.assert_array_equal(
        segments["half_saturation_spend"], table["kappa_spend_median"]
    )
    np.testing.assert_allclose(segments["half_saturation_spend"], [100, 400, 900])
    np.testing.assert_array_equal(segments["slope"], table["slope_median"])
    text = str(report)
    assert "segment 0: 53% of the channel's maximum effect" in text
    assert "segment 1: 41% of the channel's maximum effect" in text
    # the effective number in the text is the median, as in the table
    channels = effective_components(idata)
    assert f"effective number {channels.loc['search', 'n_entropy_median']:.2f}" in text
    assert channels.loc["search", "n_entropy_median"] != pytest.approx(
        channels.loc["search", "n_entropy_mean"], abs=0.005
    )


def test_segment_report_states_its_hdi_probability():
    text = str(segment_report(make_idata(), hdi_prob=0.8))
    assert "80% HDI" in text and "94% HDI" not in text


def test_tables_reject_non_mixture_and_unfitted_models():
    idata = make_idata()
    no_mixture = xr.DataTree.from_dict(
        {"/posterior": idata["posterior"].to_dataset().drop_vars("saturation_weights")}
    )
    with pytest.raises(ValueError, match="not fitted with MixtureHillSaturation"):
        component_table(no_mixture)

    class Unfitted:
        idata = None

    with pytest.raises(ValueError, match="fit the model first"):
        effective_components(Unfitted())
    with pytest.raises(ValueError, match="threshold must be in"):
        component_table(idata, threshold=1.5)


def test_hill_matches_closed_form():
    x = xr.DataArray([0.0, 0.5, 1.0, 3.0], dims=("x",))
    expected = np.array([0.0, 0.5**2 / (1 + 0.5**2), 0.5, 9 / 10])
    np.testing.assert_allclose(hill(x, xr.DataArray(2.0), xr.DataArray(1.0)), expected)


def test_mixture_curves_components_add_up_and_scale():
    idata = make_idata()
    curves = mixture_curves(idata, n_points=11, max_value=2.0)
    np.testing.assert_allclose(
        curves["components"].sum("component"), curves["total"], rtol=1e-12
    )
    scaled = mixture_curves(idata, n_points=11, max_value=2.0, original_scale=False)
    np.testing.assert_allclose(curves["total"], 50.0 * scaled["total"], rtol=1e-12)
    np.testing.assert_allclose(
        curves["spend"].sel(channel="tv").values, 1000.0 * np.linspace(0, 2, 11)
    )
    assert float(curves["total"].isel(x=0).max()) == 0.0
    posterior = idata["posterior"]
    one_draw = {k: posterior[k].isel(chain=0, draw=0) for k in posterior.data_vars}
    x = 2.0
    w, k, s = (
        one_draw[f"saturation_{n}"].sel(channel="search").values
        for n in ("weights", "kappa", "slope")
    )
    expected = (
        50.0
        * float(one_draw["saturation_beta"].sel(channel="search"))
        * np.sum(w * x**s / (k**s + x**s))
        / np.sum(w / (1.0 + k**s))
    )
    got = curves["total"].isel(chain=0, draw=0, x=-1).sel(channel="search")
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_observed_spend_range():
    bounds = observed_spend_range(make_idata())
    assert bounds.sel(channel="tv", bound="low") == 250
    assert bounds.sel(channel="tv", bound="high") == 1000
    assert bounds.sel(channel="search", bound="low") == 10


def test_label_invariant_diagnostics_pass_and_fail():
    healthy = label_invariant_diagnostics(make_idata())
    assert (healthy["r_hat_max"] < 1.01).all()
    assert (healthy["ess_bulk_min"] > 400).all()
    assert set(healthy.index) >= {"curve", "saturation_beta", "channel_contribution"}
    broken = label_invariant_diagnostics(make_idata(stuck_chain=True))
    assert broken.loc["saturation_beta", "r_hat_max"] > 1.1
    assert broken.loc["channel_contribution", "r_hat_max"] > 1.1
    assert n_divergences(make_idata()) == 0


def test_plot_channel_curves_renders_png(tmp_path):
    class Truth:
        def __init__(self, beta, kappas):
            self.beta, self.kappas = beta, kappas

        def segment_curves(self, x):
            return np.array(
                [
                    self.beta / len(self.kappas) * x**2 / (k**2 + x**2)
                    for k in self.kappas
                ]
            )

        def curve(self, x):
            return self.segment_curves(x).sum(0)

    truth = {"tv": Truth(15.0, [300.0]), "search": Truth(20.0, [20.0, 100.0])}
    fig, axes = plot_channel_curves(make_idata(), truth=truth)
    assert axes.shape == (1, 2)
    labels = [line.get_label() for line in axes[0, 1].get_lines()]
    assert "fitted" in labels and "truth" in labels
    assert sum(label.startswith("component") for label in labels) == 2
    assert sum(label.startswith("component") for label in _labels(axes[0, 0])) == 1
    path = tmp_path / "curves.png"
    fig.savefig(path)
    assert path.stat().st_size > 10_000


def _labels(ax):
    return [line.get_label() for line in ax.get_lines()]


def test_active_components_use_the_median():
    # a pruned component: mostly ~0, borrows weight 0.6 in 20 % of draws
    draws = np.full((2, 100, 2), [0.99, 0.01])
    draws[:, :20] = [0.4, 0.6]
    weights = xr.DataArray(draws, dims=("chain", "draw", "component"))
    assert float(weights.mean(("chain", "draw"))[1]) > 0.05  # the mean says active
    assert active_components(weights, 0.05).values.tolist() == [True, False]
    with pytest.raises(ValueError, match="threshold must be in"):
        active_components(weights, 0.0)


def test_segment_report_recovers_known_segments():
    report = segment_report(make_idata())
    assert report.channels.loc["tv", "n_segments"] == 1
    assert report.channels.loc["search", "n_segments"] == 2
    assert report.channels.loc["tv", "pruned"] == [1, 2]
    assert report.channels.loc["search", "pruned"] == [2]
    search = report.segments.loc["search"]
    assert search["share"].tolist() == pytest.approx([0.5, 0.48], abs=0.01)
    # kappa 0.1 and 0.5 times the channel scale 200
    assert search["half_saturation_spend"].tolist() == pytest.approx(
        [20, 100], rel=0.02
    )
    # slope 2: 90 % of the segment's maximum at kappa * 9 ** (1 / 2) = 3 kappa
    assert search["saturation_90_spend"].tolist() == pytest.approx([60, 300], rel=0.05)
    text = str(report)
    assert "search: 2 segment(s)" in text
    assert "half-saturates at 100 per period" in text
    assert "pruned components: [1, 2]" in text


def test_check_convergence_pass_and_fail():
    healthy = check_convergence(make_idata())
    assert healthy.passed
    assert healthy.table["passed"].all()
    assert "All checks passed" in str(healthy)
    broken = check_convergence(make_idata(stuck_chain=True))
    assert not broken.passed
    assert not broken.table.loc["saturation_beta", "passed"]
    assert any("R-hat above 1.01" in m for m in broken.messages)
    assert any("Run longer" in m for m in broken.messages)
    strict = check_convergence(make_idata(), min_ess=10_000)
    assert not strict.passed
    assert any("ESS below 10000" in m for m in strict.messages)


def test_check_convergence_counts_divergences():
    idata = make_idata()
    diverging = idata["sample_stats"]["diverging"].copy(data=None)
    diverging[0, :3] = True
    stats = idata["sample_stats"].to_dataset().assign(diverging=diverging)
    broken = xr.DataTree.from_dict(
        {
            "/posterior": idata["posterior"].to_dataset(),
            "/constant_data": idata["constant_data"].to_dataset(),
            "/sample_stats": stats,
        }
    )
    report = check_convergence(broken)
    assert report.divergences == 3
    assert not report.passed
    assert any("3 divergent transitions" in m for m in report.messages)
    # the advice names the fix that made every benchmark fit converge
    assert any("Raise target_accept" in m for m in report.messages)


def test_compare_models_verdicts():
    rng = np.random.default_rng(5)
    y = rng.normal(0, 1, 200)

    def tree(mu, sigma):
        shape = (2, 100, 200)
        mu_draws = mu + rng.normal(0, 0.02, size=shape)
        ll = -0.5 * ((y - mu_draws) / sigma) ** 2 - np.log(sigma * np.sqrt(2 * np.pi))
        dims = ("chain", "draw", "obs")
        return xr.DataTree.from_dict(
            {
                "/posterior": xr.Dataset({"mu": (("chain", "draw"), mu_draws[..., 0])}),
                "/log_likelihood": xr.Dataset({"y": (dims, ll)}),
            }
        )

    good, bad, same = tree(0.0, 1.0), tree(0.8, 1.0), tree(0.0, 1.0)
    result = compare_models({"bad": bad, "good": good}, reference="bad")
    assert result.table.index[0] == "good"
    assert result.table.loc["good", "z"] > 2
    assert result.verdict.startswith("good beats bad")
    tie = compare_models({"good": good, "same": same})
    assert "clearly" in tie.verdict or "No clear difference" in tie.verdict
    assert abs(tie.table.loc["same", "z"]) < 2
    with pytest.raises(ValueError, match="at least two"):
        compare_models({"good": good})
    with pytest.raises(ValueError, match="not one of"):
        compare_models({"good": good, "bad": bad}, reference="hill")


def test_weights_forest_and_effective_components_plots(tmp_path):
    fig, ax = plot_weights_forest(make_idata())
    assert len(ax.get_yticks()) == 6
    fig.savefig(tmp_path / "forest.png")
    fig, ax = plot_effective_components(make_idata())
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("tv (median 1.1") and labels[1].startswith(
        "search (median 2."
    )
    fig.savefig(tmp_path / "effective.png")
    _, given = matplotlib.pyplot.subplots()
    fig, ax = plot_weights_forest(make_idata(), ax=given)
    assert ax is given
