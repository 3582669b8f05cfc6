"""The package's import graph: every module imports on its own, in any order, in a fresh
interpreter (an import cycle shows up as a partially initialised module in some order;
cf. sbi's circular-import test)."""

import pkgutil
import subprocess
import sys

import pytest

import surveymass


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(surveymass.__path__, "surveymass.")
                  if not m.name.endswith("__main__"))


def test_the_package_has_its_modules():
    names = _modules()
    assert {"surveymass.inference.infer", "surveymass.models.bundle",
            "surveymass.calibration.run", "surveymass.cli.calibrate"} <= set(names)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_module_imports_in_a_fresh_interpreter_in_random_order(seed):
    code = ("import importlib, random, sys\n"
            "names = sys.argv[1:]\n"
            f"random.Random({seed}).shuffle(names)\n"
            "for name in names:\n"
            "    importlib.import_module(name)\n")
    proc = subprocess.run([sys.executable, "-c", code, *_modules()], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]


#: The layers of docs/architecture.md ("Where a change goes"), lowest first: a module may
#: import from its own layer or below, never above.
LAYERS = [
    {"surveymass", "errors", "paths", "lazy", "progress", "provenance", "outputs", "config"},
    {"cosmology", "halo", "photometry", "phasespace", "cluster"},
    {"survey", "masks", "catalog", "observe"},
    {"fetch", "registry"},
    {"universe"},
    {"mocks"},
    {"models"},
    {"calibration", "inference"},
    {"cli", "__main__"},
]


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "surveymass"
    return next(i for i, names in enumerate(LAYERS) if top in names)


def _imports(path) -> set[str]:
    """The surveymass modules a file imports (anywhere in it, lazy imports included)."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "surveymass":
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "surveymass"}
    return found


def test_no_module_imports_from_a_higher_layer():
    from pathlib import Path

    root = Path(surveymass.__file__).parent
    upward = []
    for path in sorted(root.rglob("*.py")):
        module = ".".join(("surveymass", *path.relative_to(root).with_suffix("").parts))
        module = module.removesuffix(".__init__")
        for target in _imports(path):
            if _layer(target) > _layer(module):
                upward.append(f"{module} -> {target}")
    assert upward == []
