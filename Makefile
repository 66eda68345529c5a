# Quick start:  make demo   (train, evaluate, sample and export on the embedded digits)
#               make test   (the default test suite; CI runs exactly this)
# Both install tfvae and its dependencies into the current Python environment
# first (use a virtualenv if you want it isolated).
PYTHON ?= python3
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: install demo test test-all bench bench-pythae

.installed: setup.cfg pyproject.toml
	$(PYTHON) -m pip install $(PIP_FLAGS) -e ".[test]"
	@touch .installed

install: .installed

demo: .installed
	$(PYTHON) -m apps.demo

test: .installed
	$(PYTHON) -m pytest -q

test-all: .installed
	$(PYTHON) -m pytest -q -m ""

bench: .installed
	$(PYTHON) benchmarks/vae_throughput.py

# The default path against pythae, one run (~12 min on 2 cores). PYTHAE_PYTHON:
# a Python with pythae and torch (default: this one if it has them, else the
# pythae rows are skipped); DATA_DIR: Fashion-MNIST's IDX folder (default:
# random binary images, same speed).
PYTHAE_PYTHON ?=
DATA_DIR ?=
bench-pythae: .installed
	$(PYTHON) benchmarks/speed_vs_pythae.py $(if $(PYTHAE_PYTHON),--pythae-python $(PYTHAE_PYTHON)) $(if $(DATA_DIR),--data-dir $(DATA_DIR))
