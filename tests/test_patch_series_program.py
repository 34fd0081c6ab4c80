"""Unit tests of the upstream patch series' writer (no sdist needed)."""

import ast
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts" / "upstream"))
import make_patch_series as mps


def test_imports_only_what_the_moved_code_uses_and_the_target_lacks():
    imports = ast.parse(
        "import numpy as np\n"
        "import numbers\n"
        "from typing import Any, ClassVar\n"
        "from pmm_mixture.priors import OrderedKappa, ensure_component_coords\n"
        "from pmm_mixture.validation import check_model_data\n"
    ).body
    target = "import numpy as np\nfrom typing import NamedTuple\n"
    used = {"np", "numbers", "Any", "OrderedKappa", "ensure_component_coords"}
    lines = mps.imports_for(imports, "pymc_marketing.mmm.transformers", target, used)
    assert lines == [
        "import numbers",
        "from typing import Any",
        "from pymc_marketing.special_priors import OrderedKappa, "
        "ensure_component_coords",
    ]
    # the same module as the target: nothing to import
    assert (
        mps.imports_for(imports[3:4], "pymc_marketing.special_priors", "", used) == []
    )


def test_curve_names_go_to_transformers():
    assert mps._home("pmm_mixture.saturation", "mixture_hill_function") == (
        "pymc_marketing.mmm.transformers"
    )
    assert mps._home("pmm_mixture.saturation", "MixtureHillSaturation") == (
        "pymc_marketing.mmm"
    )
    assert mps._home("pmm_mixture.validation", "check_model_data") is None


def test_package_only_code_is_dropped_from_the_component():
    block = (
        "class A:\n"
        "    def keep(self):\n"
        "        # the data check\n"
        "        check_model_data(model)\n"
        "        return 1\n"
        "\n"
        "    def _infer_output_core_dims(self):\n"
        "        return ()\n"
    )
    text = mps._drop_method(block, "A", "_infer_output_core_dims")
    text = mps._drop_statement(text, "check_model_data(")
    assert text == "class A:\n    def keep(self):\n        return 1\n"
    with pytest.raises(mps.SeriesError, match="expected one line"):
        mps._drop_statement(text, "check_model_data(")


def test_an_anchor_must_occur_once(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("a = 1\na = 1\n")
    with pytest.raises(mps.SeriesError, match="exactly once, found 2"):
        mps.replace_once(path, "a = 1\n", "b = 2\n")


def test_the_moved_code_is_the_package_code():
    # every curve helper the series moves exists in the package's saturation.py
    _, body = mps.read_module(mps.PACKAGE / "saturation.py")
    names = {name for name, _ in body}
    assert set(mps.CURVE_NAMES) <= names
    assert "MixtureHillSaturation" in names
    assert "__all__" not in names
