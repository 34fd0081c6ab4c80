"""Print the pip names of modules upstream's tests import that are not installed.

Usage::

    python scripts/upstream/missing_test_modules.py UPSTREAM_ROOT FILE [FILE ...]
    python scripts/upstream/missing_test_modules.py --pins

Reads the module-level imports of each test file, of every ``conftest.py``
from ``tests/`` down to the file's folder, and of the ``tests.*`` modules they
import (followed recursively), and prints, space-separated, the distributions
to install for the top-level modules that cannot be found in this
environment. Standard-library modules and ``tests`` itself are skipped.
With ``--pins`` it prints ``name==version`` for every installed
distribution instead: the constraints that keep an install from changing them.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import sys
from pathlib import Path

#: Import name -> distribution name, where the two differ.
DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
    "PIL": "pillow",
    "pytest_mock": "pytest-mock",
}


def module_level_imports(path: Path) -> set[str]:
    """Dotted names imported at module level (not inside functions)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def files_to_scan(root: Path, files: list[str]) -> list[Path]:
    """List the test files, their conftests and the tests.* modules they import."""
    queue = []
    for name in files:
        path = root / name
        queue.append(path)
        # parents of "mmm/x/test_y.py": "mmm/x", "mmm", "." (tests/ itself)
        for folder in path.relative_to(root / "tests").parents:
            conftest = root / "tests" / folder / "conftest.py"
            if conftest.is_file():
                queue.append(conftest)
    seen: list[Path] = []
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.append(path)
        for module in module_level_imports(path):
            if module.split(".")[0] == "tests":
                candidate = root / Path(*module.split("."))
                for found in (candidate.with_suffix(".py"), candidate / "__init__.py"):
                    if found.is_file():
                        queue.append(found)
    return seen


def main(argv: list[str]) -> int:
    """Print the missing distributions (or, with ``--pins``, the installed)."""
    if argv == ["--pins"]:
        pins = {
            f"{d.metadata['Name']}=={d.version}"
            for d in importlib.metadata.distributions()
        }
        print("\n".join(sorted(pins)))
        return 0
    root, files = Path(argv[0]), argv[1:]
    top_level = {
        module.split(".")[0]
        for path in files_to_scan(root, files)
        for module in module_level_imports(path)
    }
    missing = sorted(
        DISTRIBUTIONS.get(name, name)
        for name in top_level - set(sys.stdlib_module_names) - {"tests"}
        if importlib.util.find_spec(name) is None
    )
    print(" ".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
