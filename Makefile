# Set-up and the two jobs of the README. `make coma` and `make test` each build the
# virtual environment on first use (torch pinned; README.md says how to get the CPU build).
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out

.PHONY: coma test bench clean-venv

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

coma: $(VENV)/.installed
	$(VENV)/bin/surveymass infer coma_sdss -o $(OUT)/coma/coma_results.ecsv --plots $(OUT)/coma --overwrite

test: $(VENV)/.installed
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[dev]"
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
