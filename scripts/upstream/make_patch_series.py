"""Write the upstream pull request as a patch series against the pinned sdist.

Usage::

    python scripts/upstream/make_patch_series.py SDIST_ROOT [--out DIR] [--check]

``SDIST_ROOT`` is an unpacked PyMC-Marketing source distribution (the folder
holding ``pymc_marketing/`` and ``tests/``). The script copies it into a
temporary git repository, makes one commit per step below, and writes the
commits with ``git format-patch`` to ``--out`` (default
``scripts/upstream/patches``). ``--check`` writes nothing and exits 1 if the
committed patches differ from the ones the package's sources give now, so the
patches cannot drift from the package.

The code comes from the package itself, so there is one source of truth: each
step takes top-level definitions from ``pmm_mixture`` modules (found with
``ast``, with their decorators and leading comments) and appends them to the
upstream module they belong in, importing what they use that the module does
not already bind. What is specific to this package is left out: the data
check (upstream item: validation), the ``_infer_output_core_dims`` override
(replaced by ``Transformation.reduced_dims``), ``__all__`` lists, and module
docstrings. Every edit of upstream text is anchored on an exact string that
must occur once, or the script stops naming it.

Steps:

1. ``mixture_hill_function`` beside ``hill_function`` in ``transformers.py``.
2. The structured priors as ``SpecialPrior`` subclasses in ``special_priors.py``.
3. ``Transformation.reduced_dims``: dims a transformation's ``function`` sums
   over; ``_infer_output_core_dims`` leaves them out and the lift-test
   functions do not ask the lift table for them.
4. ``MixtureHillSaturation`` in ``components/saturation.py``, exported from
   ``pymc_marketing.mmm``.
5. Tests: the mixture in upstream's saturation parametrizations (as
   ``scripts/upstream/patch_upstream_tests.py`` adds it, importing it from
   ``pymc_marketing.mmm``), the roundtrip test given structured priors for the
   mixture, and the package's own tests of the curve and priors ported.
6. A docs notebook, ``scripts/upstream/mmm_mixture_hill.ipynb`` (executed):
   PyMC-Marketing's example data (``data/mmm_example.csv``) through the usual
   MMM flow with only the saturation swapped.
"""

# ruff: noqa: E501  (anchors are exact lines of upstream's files)
from __future__ import annotations

import argparse
import ast
import filecmp
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PACKAGE = ROOT / "pmm_mixture"
TESTS = ROOT / "tests"
DEFAULT_OUT = HERE / "patches"

sys.path.insert(0, str(HERE))
import patch_upstream_tests  # noqa: E402

TRANSFORMERS = "pymc_marketing/mmm/transformers.py"
SPECIAL_PRIORS = "pymc_marketing/special_priors.py"
SATURATION = "pymc_marketing/mmm/components/saturation.py"
BASE = "pymc_marketing/mmm/components/base.py"
LIFT_TEST = "pymc_marketing/mmm/lift_test.py"
MMM_INIT = "pymc_marketing/mmm/__init__.py"

#: Top-level names of pmm_mixture/saturation.py that go to transformers.py.
CURVE_NAMES = (
    "_log_sigmoid",
    "_dims",
    "_as_parameter",
    "_in_order_of",
    "mixture_hill_function",
)
#: Where each pmm_mixture module's code lands upstream (saturation.py is split).
MODULE_HOME = {
    "pmm_mixture.priors": "pymc_marketing.special_priors",
    "pmm_mixture.pooled_weights": "pymc_marketing.special_priors",
    "pmm_mixture.saturation": "pymc_marketing.mmm.components.saturation",
}
#: Names whose home differs from their module's.
NAME_HOME = {name: "pymc_marketing.mmm.transformers" for name in CURVE_NAMES}
NAME_HOME["MixtureHillSaturation"] = "pymc_marketing.mmm"
#: Docstring and comment references rewritten in the moved code.
REWRITES = (
    (
        "from pmm_mixture import MixtureHillSaturation",
        "from pymc_marketing.mmm import MixtureHillSaturation",
    ),
    (
        "from pmm_mixture.pooled_weights import",
        "from pymc_marketing.special_priors import",
    ),
    ("from pmm_mixture.priors import", "from pymc_marketing.special_priors import"),
    ("pmm_mixture.priors.", "pymc_marketing.special_priors."),
    ("pmm_mixture.pooled_weights.", "pymc_marketing.special_priors."),
    ("pmm_mixture.MixtureHillSaturation", "pymc_marketing.mmm.MixtureHillSaturation"),
    (
        "pmm_mixture.saturation.MixtureHillSaturation",
        "pymc_marketing.mmm.components.saturation.MixtureHillSaturation",
    ),
    # pmm_mixture.evidence and the benchmarks stay in pmm_mixture.
    ("(:mod:`pmm_mixture.evidence`)", "(components within 2x merged)"),
    ("apart (:mod:`pmm_mixture.evidence` merges them) and", "apart and"),
    (
        ":func:`pmm_mixture.evidence.distinct_segments`, which merges",
        "a rule that merges",
    ),
    ("(``benchmarks/", "(pmm_mixture's ``benchmarks/"),
)


class SeriesError(RuntimeError):
    """A step could not find what it edits."""


# ---------------------------------------------------------------------------
# Reading the package's modules
# ---------------------------------------------------------------------------
def _statement_text(source: str, node: ast.stmt) -> str:
    """Return the statement's source with its decorators and comments above."""
    lines = source.splitlines(keepends=True)
    start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    while start > 1 and lines[start - 2].lstrip().startswith("#"):
        start -= 1
    return "".join(lines[start - 1 : node.end_lineno])


def _name_of(node: ast.stmt) -> str | None:
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        return getattr(node.targets[0], "id", None)
    if isinstance(node, ast.AnnAssign):
        return getattr(node.target, "id", None)
    return None


def read_module(path: Path) -> tuple[list[ast.stmt], list[tuple[str | None, str]]]:
    """Its imports, and its other top-level statements as (name, text) pairs.

    Leaves out the docstring, ``from __future__`` and ``__all__``.
    """
    source = path.read_text()
    tree = ast.parse(source)
    imports, body = [], []
    for i, node in enumerate(tree.body):
        if (
            i == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
        ):
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(node)
            continue
        name = _name_of(node)
        if name == "__all__":
            continue
        body.append((name, _statement_text(source, node)))
    return imports, body


def _bound_names(source: str) -> set[str]:
    """Names bound at the top level of a module (imports, defs, assignments)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif (name := _name_of(node)) is not None:
            names.add(name)
    return names


def _home(module: str, name: str) -> str | None:
    """Return the upstream module of a pmm_mixture name (None: not moved)."""
    if name in NAME_HOME:
        return NAME_HOME[name]
    return MODULE_HOME.get(module)


def _used_names(blocks: Iterable[str]) -> set[str]:
    """Names the code reads (``Name`` nodes: ``np`` of ``np.exp`` included)."""
    return {
        node.id
        for block in blocks
        for node in ast.walk(ast.parse(block))
        if isinstance(node, ast.Name)
    }


def imports_for(
    imports: Iterable[ast.stmt],
    target_module: str,
    target_source: str,
    used: set[str] | None = None,
) -> list[str]:
    """Import lines the moved code uses that the target does not bind."""
    bound = _bound_names(target_source)
    if used is not None:
        # names the moved code does not use count as bound: not imported
        bound |= {
            (a.asname or a.name).split(".")[0]
            for node in imports
            for a in node.names  # type: ignore[attr-defined]
        } - used
    lines = []
    for node in imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                name = (alias.asname or alias.name).split(".")[0]
                if name not in bound:
                    text = f"import {alias.name}" + (
                        f" as {alias.asname}" if alias.asname else ""
                    )
                    lines.append(text)
                    bound.add(name)
            continue
        for alias in node.names:
            name = alias.asname or alias.name
            module = node.module or ""
            if module.startswith("pmm_mixture"):
                home = _home(module, alias.name)
                if home is None:
                    continue  # package-only code, left out of the moved text
                module = home
            if module == target_module or name in bound:
                continue
            lines.append(
                f"from {module} import {alias.name}"
                + (f" as {alias.asname}" if alias.asname else "")
            )
            bound.add(name)
    return _merged(lines)


def _merged(lines: list[str]) -> list[str]:
    """``from m import a`` lines of one module merged into one statement."""
    out: list[str] = []
    names: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("from ") and " as " not in line:
            module, name = line[5:].split(" import ")
            if module not in names:
                names[module] = []
                out.append(module)
            names[module].append(name)
        else:
            out.append(line)
    return [
        f"from {item} import {', '.join(names[item])}" if item in names else item
        for item in out
    ]


def rewrite(text: str) -> str:
    """Point the moved text's references to pmm_mixture at upstream names."""
    for old, new in REWRITES:
        text = text.replace(old, new)
    left = re.findall(r"pmm_mixture\.[\w.]+", text)
    if left:
        raise SeriesError(f"no upstream name for {sorted(set(left))} in moved text.")
    return text


# ---------------------------------------------------------------------------
# Editing upstream files
# ---------------------------------------------------------------------------
def replace_once(path: Path, old: str, new: str) -> None:
    """Replace ``old``, which must occur exactly once, by ``new``."""
    text = path.read_text()
    if text.count(old) != 1:
        raise SeriesError(
            f"{path}: expected {old!r} exactly once, found {text.count(old)}."
        )
    path.write_text(text.replace(old, new))


def add_imports(path: Path, lines: list[str]) -> None:
    """Insert import lines after the module's leading imports."""
    if not lines:
        return
    source = path.read_text()
    tree = ast.parse(source)
    last = None
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            last = node
        elif last is not None:
            break
    if last is None:
        raise SeriesError(f"{path}: no module-level import.")
    out = source.splitlines(keepends=True)
    out.insert(last.end_lineno, "".join(f"{line}\n" for line in lines))
    path.write_text("".join(out))


def ensure_future_annotations(path: Path) -> None:
    """Add ``from __future__ import annotations`` after the docstring."""
    source = path.read_text()
    if "from __future__ import annotations" in source:
        return
    tree = ast.parse(source)
    first = tree.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
        raise SeriesError(
            f"{path}: no module docstring to put the future import after."
        )
    lines = source.splitlines(keepends=True)
    lines.insert(first.end_lineno, "\nfrom __future__ import annotations\n")
    path.write_text("".join(lines))


def append_code(
    path: Path, module: str, imports: list[ast.stmt], blocks: list[str]
) -> None:
    """Append moved code to an upstream module, with the imports it needs."""
    ensure_future_annotations(path)
    add_imports(
        path, imports_for(imports, module, path.read_text(), _used_names(blocks))
    )
    text = (
        path.read_text().rstrip("\n")
        + "\n\n\n"
        + "\n\n".join(rewrite(block).rstrip("\n") + "\n" for block in blocks)
    )
    path.write_text(text)


def _drop_method(block: str, class_name: str, method: str) -> str:
    """Return the class's source without one method (and the blank line before)."""
    tree = ast.parse(block)
    cls = next(
        n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name
    )
    found = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == method]
    if len(found) != 1:
        raise SeriesError(f"{class_name}.{method} not found.")
    node = found[0]
    lines = block.splitlines(keepends=True)
    start = node.lineno - 1
    while start > 0 and lines[start - 1].strip() == "":
        start -= 1
    return "".join(lines[:start] + lines[node.end_lineno :])


def _drop_statement(block: str, contains: str) -> str:
    """Drop the one line holding ``contains`` and the comment lines above it."""
    lines = block.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if contains in line]
    if len(hits) != 1:
        raise SeriesError(f"expected one line with {contains!r}, found {len(hits)}.")
    end = hits[0]
    start = end
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "".join(lines[:start] + lines[end + 1 :])


# ---------------------------------------------------------------------------
# The steps
# ---------------------------------------------------------------------------
def step_curve(tree: Path) -> None:
    """Step 1: the pure curve and its helpers into transformers.py."""
    imports, body = read_module(PACKAGE / "saturation.py")
    blocks = [text for name, text in body if name in CURVE_NAMES]
    if len(blocks) != len(CURVE_NAMES):
        raise SeriesError("pmm_mixture/saturation.py: a curve helper is missing.")
    append_code(tree / TRANSFORMERS, "pymc_marketing.mmm.transformers", imports, blocks)


def step_priors(tree: Path) -> None:
    """Step 2: the component priors into special_priors.py."""
    for module in ("priors.py", "pooled_weights.py"):
        imports, body = read_module(PACKAGE / module)
        append_code(
            tree / SPECIAL_PRIORS,
            "pymc_marketing.special_priors",
            imports,
            [text for _, text in body],
        )


def step_reduced_dims(tree: Path) -> None:
    """Step 3: reduced dims in Transformation and the lift-test functions."""
    replace_once(
        tree / BASE,
        "    def _infer_output_core_dims(self) -> tuple[str, ...]:\n",
        "    @property\n"
        "    def reduced_dims(self) -> frozenset[str]:\n"
        '        """Dims of the parameters that ``function`` sums over (none here).\n'
        "\n"
        "        They are not output dims, and lift tests do not index them.\n"
        '        """\n'
        "        return frozenset()\n"
        "\n"
        "    def _infer_output_core_dims(self) -> tuple[str, ...]:\n",
    )
    replace_once(
        tree / BASE,
        "        return tuple(list({str(dim): None for dims in parameter_dims for dim in dims}))\n",
        "        return tuple(\n"
        "            dim\n"
        "            for dim in {str(dim): None for dims in parameter_dims for dim in dims}\n"
        "            if dim not in self.reduced_dims\n"
        "        )\n",
    )
    lift = tree / LIFT_TEST
    replace_once(
        lift,
        "    get_indices: Callable[[pd.DataFrame, pm.Model], Indices] = exact_row_indices,\n"
        "    *,\n"
        "    dist: type[pmd.DimDistribution] | None = None,\n"
        ") -> None:\n"
        '    """Add saturation observations to the likelihood of the model.\n',
        "    get_indices: Callable[[pd.DataFrame, pm.Model], Indices] = exact_row_indices,\n"
        "    *,\n"
        "    dist: type[pmd.DimDistribution] | None = None,\n"
        "    reduced_dims: Collection[str] = (),\n"
        ") -> None:\n"
        '    """Add saturation observations to the likelihood of the model.\n',
    )
    replace_once(
        lift,
        "            if name in var_names\n            for dim in dims\n        }\n    )\n",
        "            if name in var_names\n"
        "            for dim in dims\n"
        "            # summed over by the saturation function: no lift-table column\n"
        "            if dim not in reduced_dims\n"
        "        }\n    )\n",
    )
    replace_once(
        lift,
        "        name=name,\n        model=model,\n        get_indices=get_indices,\n    )\n",
        "        name=name,\n"
        "        model=model,\n"
        "        get_indices=get_indices,\n"
        '        reduced_dims=getattr(saturation, "reduced_dims", ()),\n'
        "    )\n",
    )
    replace_once(
        lift,
        "    get_indices : Callable[[pd.DataFrame, pm.Model], Indices], optional\n"
        "        Function to get the indices of the DataFrame in the model, by default exact_row_indices\n"
        "        which assumes that the columns map exactly to the model coordinates.\n"
        "\n    Examples\n",
        "    get_indices : Callable[[pd.DataFrame, pm.Model], Indices], optional\n"
        "        Function to get the indices of the DataFrame in the model, by default exact_row_indices\n"
        "        which assumes that the columns map exactly to the model coordinates.\n"
        "    reduced_dims : Collection[str], optional\n"
        "        Dims of the variables that ``saturation_function`` sums over (e.g. the\n"
        "        component dim of a mixture); the lift table has no column for them.\n"
        "\n    Examples\n",
    )
    add_imports(
        lift,
        imports_for(
            ast.parse("from collections.abc import Collection").body,
            "",
            lift.read_text(),
        ),
    )


def step_component(tree: Path) -> None:
    """Step 4: MixtureHillSaturation into components/saturation.py."""
    imports, body = read_module(PACKAGE / "saturation.py")
    blocks = []
    for name, text in body:
        if name in CURVE_NAMES:
            continue
        if name == "MixtureHillSaturation":
            text = _drop_method(text, name, "_infer_output_core_dims")
            text = _drop_statement(text, "check_model_data(")
        blocks.append(text)
    imports = [
        node
        for node in imports
        if not (
            isinstance(node, ast.ImportFrom) and node.module == "pmm_mixture.validation"
        )
    ]
    used = _used_names(blocks)
    curve = [name for name in CURVE_NAMES if name in used]
    imports.append(
        ast.parse(
            f"from pymc_marketing.mmm.transformers import {', '.join(curve)}"
        ).body[0]
    )
    append_code(
        tree / SATURATION, "pymc_marketing.mmm.components.saturation", imports, blocks
    )
    init = tree / MMM_INIT
    replace_once(
        init,
        "    HillSaturation,\n    HillSaturationSigmoid,\n",
        "    HillSaturation,\n    HillSaturationSigmoid,\n    MixtureHillSaturation,\n",
    )
    replace_once(
        init,
        '    "HillSaturation",\n    "HillSaturationSigmoid",\n',
        '    "HillSaturation",\n    "HillSaturationSigmoid",\n    "MixtureHillSaturation",\n',
    )


def step_tests(tree: Path) -> None:
    """Step 5: upstream parametrizations, the roundtrip test, ported tests."""
    # upstream's parametrizations, as the contract tests add the mixture;
    # ALL_SATURATION_CLASSES lists the saturation module's classes, so it has
    # the mixture already and only its type key is added there
    patch_upstream_tests.configure_upstream_names()
    edits = dict(patch_upstream_tests.EDITS)
    edits["tests/mmm/components/test_saturation.py"] = lambda tree_, lines, path: (
        patch_upstream_tests.append_type_key(tree_, lines, "test_type_registered", path)
    )
    for relative, edit in edits.items():
        patch_upstream_tests.patch_file(tree / relative, edit)
    replace_once(
        tree / "tests/mmm/components/test_saturation.py",
        '        kwargs: dict = {\n            "prefix": "custom_sat",\n',
        "        if sat_cls is MixtureHillSaturation:\n"
        "            # weights on the simplex and ordered kappas: structured priors\n"
        '            component_dims = ("channel", "custom_sat_component")\n'
        "            custom_priors |= {\n"
        '                "weights": StickBreakingWeights(alpha=0.3, dims=component_dims),\n'
        '                "kappa": OrderedKappa(dims=component_dims),\n'
        "            }\n"
        '        kwargs: dict = {\n            "prefix": "custom_sat",\n',
    )
    add_imports(
        tree / "tests/mmm/components/test_saturation.py",
        [
            "from pymc_marketing.special_priors import OrderedKappa, StickBreakingWeights"
        ],
    )
    port_test(
        TESTS / "test_saturation.py",
        tree / "tests/mmm/components/test_mixture_saturation.py",
    )
    port_test(TESTS / "test_priors.py", tree / "tests/test_mixture_special_priors.py")


def port_test(source: Path, target: Path) -> None:
    """Write a package test module with its pmm_mixture imports pointed upstream.

    ``pmm_mixture.hill`` (the NumPy reference curve) is written into the test
    module; any other pmm_mixture import stops the script.
    """
    text = source.read_text()
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    new_imports: dict[str, list[str]] = {}
    inline: list[str] = []
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        if not (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("pmm_mixture")
        ):
            continue
        drop.append((node.lineno, node.end_lineno))
        if node.module == "pmm_mixture.hill":
            hill_imports, body = read_module(PACKAGE / "hill.py")
            inline += [block for _, block in body]
            for imp in hill_imports:
                inline.insert(0, ast.unparse(imp) + "\n")
            continue
        for alias in node.names:
            home = _home(node.module, alias.name)
            if node.module == "pmm_mixture" and alias.name not in NAME_HOME:
                home = "pymc_marketing.special_priors"
            if home is None:
                raise SeriesError(
                    f"{source}: cannot port the import of {alias.name} from {node.module}."
                )
            new_imports.setdefault(home, []).append(alias.name)
    for start, end in reversed(drop):
        del lines[start - 1 : end]
    import_lines = [
        f"from {module} import {', '.join(sorted(names))}\n"
        for module, names in sorted(new_imports.items())
    ]
    body = rewrite("".join(lines))
    header = (
        f'"""Tests of the mixture of Hill curves ({target.name}).\n\n'
        f"Ported from pmm_mixture's tests/{source.name}.\n"
        '"""\n\n'
    )
    hill_block = ""
    if inline:
        hill_block = "\n# NumPy reference curve (pmm_mixture.hill)\n" + "\n".join(
            b.rstrip("\n") + "\n" for b in dict.fromkeys(inline)
        )
    tree_lines = body.splitlines(keepends=True)
    last_import = max(
        n.end_lineno
        for n in ast.parse(body).body
        if isinstance(n, ast.Import | ast.ImportFrom)
    )
    out = (
        header
        + "".join(tree_lines[:last_import])
        + "".join(import_lines)
        + hill_block
        + "".join(tree_lines[last_import:])
    )
    target.write_text(out)


def step_notebook(tree: Path) -> None:
    """Step 6: the docs notebook, as executed here."""
    target = tree / "docs/source/notebooks/mmm/mmm_mixture_hill.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "mmm_mixture_hill.ipynb", target)


STEPS: list[tuple[str, Callable[[Path], None]]] = [
    ("Add mixture_hill_function beside hill_function", step_curve),
    ("Add the mixture's structured priors as SpecialPriors", step_priors),
    (
        "Add Transformation.reduced_dims for dims a saturation sums over",
        step_reduced_dims,
    ),
    ("Add MixtureHillSaturation", step_component),
    ("Test MixtureHillSaturation and its priors", step_tests),
    ("Docs: a mixture of Hill curves on the example data", step_notebook),
]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "-c",
            "user.name=pmm_mixture",
            "-c",
            "user.email=pmm_mixture@localhost",
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def build(sdist_root: Path, out: Path) -> list[Path]:
    """Apply the steps in a git copy of the sdist; write the patches to ``out``."""
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "pymc-marketing"
        shutil.copytree(sdist_root, repo)
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(
            repo,
            "commit",
            "-q",
            "-m",
            "pymc-marketing sdist",
            "--date",
            "2026-01-01T00:00:00",
        )
        for subject, step in STEPS:
            step(repo)
            _git(repo, "add", "-A")
            _git(repo, "commit", "-q", "-m", subject, "--date", "2026-01-01T00:00:00")
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.patch"):
            old.unlink()
        names = _git(
            repo,
            "format-patch",
            "--no-signature",
            "--zero-commit",
            "--no-stat",
            "-o",
            str(out),
            f"HEAD~{len(STEPS)}",
        ).split()
        return [Path(name) for name in names]


def main(argv: list[str] | None = None) -> int:
    """Write the patches, or check them with ``--check``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sdist_root", type=Path, help="unpacked pymc-marketing sdist")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--check", action="store_true", help="compare with --out, write nothing"
    )
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as fresh:
            made = build(args.sdist_root, Path(fresh))
            committed = sorted(p.name for p in args.out.glob("*.patch"))
            stale = [
                p.name
                for p in made
                if not (args.out / p.name).is_file()
                or not filecmp.cmp(p, args.out / p.name, shallow=False)
            ]
            if stale or committed != sorted(p.name for p in made):
                print(
                    f"patch series out of date with the package: {stale or committed}; rerun make_patch_series.py",
                    file=sys.stderr,
                )
                return 1
        print(f"patch series up to date ({len(made)} patches)")
        return 0
    for path in build(args.sdist_root, args.out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SeriesError as error:
        print(f"make_patch_series: {error}", file=sys.stderr)
        sys.exit(2)
