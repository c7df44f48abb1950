# gongkai — make run | make test | make fuzz | make bench | make bench-scale | make lint
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

# Prefect runs without a server; gongkai keeps its state in DATA_DIR/.prefect, quiet and offline.
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL := WARNING
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test fuzz bench bench-scale lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,ocr,dask]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/gongkai parse data/samples/
	$(VENV)/bin/gongkai demo --data-dir data
	$(VENV)/bin/gongkai report --out data/overview.html --data-dir data

test: install
	$(PY) -m pytest

fuzz: install  ## the parser against 10,000 mutated real pages (make test runs 360)
	GONGKAI_FUZZ_EXAMPLES=1970 $(PY) -m pytest tests/test_fuzz.py -W ignore::DeprecationWarning -p no:cacheprovider

bench: install
	$(PY) bench/run.py

bench-scale: install  ## load 10 k → 100 k → 1 M reports through Parquet parts (~8 min); stats, checks and export of a 200-million-cell warehouse (about 60 GB of disk, ~15 min)
	$(PY) bench/load_scale.py
	$(PY) bench/scale_bench.py

lint: install
	$(VENV)/bin/ruff check gongkai extract transform flows devtools tests bench

clean:
	rm -rf $(VENV) .prefect .pytest_cache .hypothesis build *.egg-info
