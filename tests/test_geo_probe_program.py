"""The geo probe's report of where slow chains sit (no model is fitted)."""

import sys
from pathlib import Path

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import geo_probe


def test_far_coordinates_names_the_coordinate_a_slow_chain_sits_apart_on():
    rng = np.random.default_rng(0)
    posterior = xr.Dataset(
        {
            "sigma": (("chain", "draw"), rng.normal(size=(4, 200))),
            "kappa": (("chain", "draw", "component"), rng.normal(size=(4, 200, 3))),
        }
    )
    posterior["kappa"][1, :, 2] += 10.0  # chain 1 sits apart on kappa[2]
    slow = np.array([False, True, False, False])
    lines = geo_probe.far_coordinates(posterior, slow)
    assert "kappa[2]" in lines[0]
    assert float(lines[0].split()[0]) > 8.0  # about 10 sd
    assert all(float(line.split()[0]) < 1.0 for line in lines[1:])
