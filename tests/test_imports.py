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
