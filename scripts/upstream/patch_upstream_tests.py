"""Add MixtureHillSaturation to the saturation parametrizations of upstream tests.

Usage::

    python scripts/upstream/patch_upstream_tests.py UPSTREAM_ROOT

``UPSTREAM_ROOT`` is an unpacked PyMC-Marketing source distribution (the folder
holding ``tests/``). Three test files are edited in place, by adding text only:

- ``tests/mmm/components/test_saturation.py``: the class is appended to
  ``ALL_SATURATION_CLASSES`` (the list every class-parametrized test there
  draws from) and its type key to ``test_type_registered``'s list.
- ``tests/mmm/test_lift_test.py``: ``saturation_functions()``'s list gets the
  mixture next to ``HillSaturation()``.
- ``tests/mmm/test_incrementality.py``: the parametrization of
  ``test_other_built_in_transforms`` gets the ``HillSaturation()`` entry again
  with the mixture in its place, and a matching id.

plus one import line per file. The rule behind the list edits: wherever
upstream parametrizes over saturations with a ``HillSaturation()`` entry, the
mixture (a mixture of Hill curves) is added by cloning that entry. The
locations are found by parsing the files (``ast``), not by line numbers; each
edit must find exactly one target or the script stops with an error naming the
file and what it looked for, so an upstream change cannot silently drop cases.
Every other line of the files is left as it is (checked after editing: the
inserted texts removed, the edited file is the original).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import dataclass
from pathlib import Path

#: Components of the mixture instances added where upstream lists instances
#: (class lists get the class, whose default is 3 components).
N_COMPONENTS = 2
MIXTURE = f"MixtureHillSaturation(n_components={N_COMPONENTS})"
HILL = "HillSaturation()"
IMPORT_LINE = (
    "from pmm_mixture import MixtureHillSaturation  # added by pmm_mixture's "
    "scripts/upstream"
)
HILL_TYPE_KEY = "pymc_marketing.mmm.components.saturation.HillSaturation"
MIXTURE_TYPE_KEY = "pmm_mixture.saturation.MixtureHillSaturation"


def configure_upstream_names() -> None:
    """Point the edits at the mixture inside PyMC-Marketing (the patch series)."""
    global IMPORT_LINE, MIXTURE_TYPE_KEY
    IMPORT_LINE = "from pymc_marketing.mmm import MixtureHillSaturation"
    MIXTURE_TYPE_KEY = "pymc_marketing.mmm.components.saturation.MixtureHillSaturation"


class PatchError(RuntimeError):
    """An edit could not find its target in upstream's test file."""


@dataclass(frozen=True)
class Insertion:
    """Text inserted at (1-based line, 0-based column) of the original file."""

    line: int
    col: int
    text: str


def _functions(tree: ast.Module, name: str) -> list[ast.FunctionDef]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == name
    ]


def _one(found: list, what: str, path: str):
    if len(found) != 1:
        raise PatchError(f"{path}: expected exactly one {what}, found {len(found)}.")
    return found[0]


def _source(lines: list[str], node: ast.AST) -> str:
    segment = ast.get_source_segment("".join(lines), node)
    if segment is None:
        raise PatchError(f"no source for {ast.dump(node)[:80]}")
    return segment


def _append_to_list(node: ast.List, text: str) -> Insertion:
    """Insert ``, text`` right after the list's last element."""
    if not node.elts:
        raise PatchError("cannot append to an empty list")
    last = node.elts[-1]
    return Insertion(last.end_lineno, last.end_col_offset, f", {text}")


def _hill_entries(node: ast.List, lines: list[str]) -> list[int]:
    """Return the indices of the entries holding a ``HillSaturation()`` call."""
    return [
        i
        for i, element in enumerate(node.elts)
        if any(
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Name)
            and sub.func.id == "HillSaturation"
            and not sub.args
            and not sub.keywords
            for sub in ast.walk(element)
        )
    ]


def _clone_hill_entry(
    tree: ast.Module, lines: list[str], function: str, path: str
) -> list[Insertion]:
    """Clone the ``HillSaturation()`` entry of lists in ``function``.

    The list holding the entry gets a copy with the mixture in its place; an
    ``ids=[...]`` list of the same parametrize call, if any, gets the Hill
    entry's id with ``mixture-`` in front.
    """
    func = _one(_functions(tree, function), f"function {function!r}", path)
    insertions = []
    lists = [
        node
        for node in ast.walk(func)
        if isinstance(node, ast.List) and _hill_entries(node, lines)
    ]
    target = _one(lists, f"list with a {HILL} entry in {function!r}", path)
    index = _one(_hill_entries(target, lines), f"{HILL} entry in the list", path)
    entry = _source(lines, target.elts[index])
    if entry.count(HILL) != 1:
        raise PatchError(f"{path}: the Hill entry {entry!r} is not a plain {HILL}.")
    insertions.append(_append_to_list(target, entry.replace(HILL, MIXTURE)))

    for call in ast.walk(func):
        if not (isinstance(call, ast.Call) and target in call.args):
            continue
        for keyword in call.keywords:
            if keyword.arg == "ids" and isinstance(keyword.value, ast.List):
                ids = keyword.value
                if len(ids.elts) != len(target.elts):
                    raise PatchError(f"{path}: ids and values differ in length.")
                hill_id = ast.literal_eval(ids.elts[index])
                insertions.append(
                    _append_to_list(ids, json.dumps(f"mixture-{hill_id}"))
                )
    return insertions


def append_type_key(
    tree: ast.Module, lines: list[str], function: str, path: str
) -> list[Insertion]:
    """Add the mixture's serialization key next to HillSaturation's."""
    func = _one(_functions(tree, function), f"function {function!r}", path)
    lists = [
        node
        for node in ast.walk(func)
        if isinstance(node, ast.List)
        and any(
            isinstance(e, ast.Constant) and e.value == HILL_TYPE_KEY for e in node.elts
        )
    ]
    target = _one(lists, f"list holding {HILL_TYPE_KEY!r} in {function!r}", path)
    return [_append_to_list(target, json.dumps(MIXTURE_TYPE_KEY))]


def _append_after_assignment(
    tree: ast.Module, name: str, statement: str, path: str
) -> list[Insertion]:
    """Insert ``statement`` on a new line after the module-level ``name = ...``."""
    found = [
        node
        for node in tree.body
        if (isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == name)
        or (
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", "") == name for t in node.targets)
        )
    ]
    node = _one(found, f"module-level assignment of {name!r}", path)
    return [Insertion(node.end_lineno + 1, 0, f"{statement}\n")]


def _import_insertion(tree: ast.Module, path: str) -> Insertion:
    """Insert a line after the last import of the module's leading imports."""
    last = None
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            last = node
        elif last is not None:
            break
    if last is None:
        raise PatchError(f"{path}: no module-level import found.")
    return Insertion(last.end_lineno + 1, 0, f"{IMPORT_LINE}\n")


def _apply(lines: list[str], insertions: list[Insertion]) -> list[str]:
    lines = list(lines)
    # bottom-up, right to left, so that earlier positions stay valid
    for ins in sorted(insertions, key=lambda i: (i.line, i.col), reverse=True):
        if ins.col == 0:
            lines.insert(ins.line - 1, ins.text)
        else:
            line = lines[ins.line - 1]
            # ast columns are UTF-8 byte offsets
            raw = line.encode()
            lines[ins.line - 1] = (
                raw[: ins.col] + ins.text.encode() + raw[ins.col :]
            ).decode()
    return lines


EDITS = {
    "tests/mmm/components/test_saturation.py": lambda tree, lines, path: [
        *_append_after_assignment(
            tree,
            "ALL_SATURATION_CLASSES",
            "ALL_SATURATION_CLASSES.append(MixtureHillSaturation)",
            path,
        ),
        *append_type_key(tree, lines, "test_type_registered", path),
    ],
    "tests/mmm/test_lift_test.py": lambda tree, lines, path: _clone_hill_entry(
        tree, lines, "saturation_functions", path
    ),
    "tests/mmm/test_incrementality.py": lambda tree, lines, path: _clone_hill_entry(
        tree, lines, "test_other_built_in_transforms", path
    ),
}


def patch_file(path: Path, edit) -> list[str]:
    """Edit one file in place; return the lines that were added or extended."""
    text = path.read_text()
    if "MixtureHillSaturation" in text:
        raise PatchError(f"{path}: already mentions MixtureHillSaturation.")
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    insertions = [_import_insertion(tree, str(path)), *edit(tree, lines, str(path))]
    edited = _apply(lines, insertions)
    new_text = "".join(edited)
    ast.parse(new_text)  # still valid Python
    # Only additions: removing each inserted text once gives the original back.
    # (The original has no "MixtureHillSaturation", so each removal finds the
    # inserted occurrence.)
    restored = new_text
    for insertion in insertions:
        restored = restored.replace(insertion.text, "", 1)
    if restored != text:
        raise PatchError(f"{path}: the edit changed more than it added.")
    path.write_text(new_text)
    return [line for line in edited if line not in set(lines)]


def main(argv: list[str] | None = None) -> int:
    """Patch the three upstream test files under the given source root."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="unpacked pymc-marketing sdist")
    args = parser.parse_args(argv)
    for relative, edit in EDITS.items():
        path = args.root / relative
        if not path.is_file():
            raise PatchError(f"{path} not found in the source distribution.")
        for line in patch_file(path, edit):
            print(f"{relative}: {line.strip()}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except PatchError as error:
        print(f"patch_upstream_tests: {error}", file=sys.stderr)
        sys.exit(2)
