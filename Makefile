# Quick start:  make demo   (train, evaluate, sample and export on the embedded digits)
#               make test   (the default test suite; CI runs exactly this)
# Both install tfvae and its dependencies into the current Python environment
# first (use a virtualenv if you want it isolated).
PYTHON ?= python3
PIP_FLAGS ?= --quiet --disable-pip-version-check

.PHONY: install demo test test-all bench

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
