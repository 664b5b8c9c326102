# mmsmmix: `make demo` trains and evaluates SMMix on Fashion-MNIST; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FMNIST := /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

DEMO_CONFIG ?= configs/fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist.py
DEMO_DIR ?= work_dirs/demo

.PHONY: install demo test clean

install: $(VENV)/.installed $(FMNIST)

# The venv is rebuilt only when the requirements or setup.py change.
$(VENV)/.installed: requirements/runtime.txt requirements/tests.txt setup.py
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements/runtime.txt -r requirements/tests.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $@

$(FMNIST):
	$(SUDO) apt-get update
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y dataset-fashion-mnist

demo: install
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CONFIG) "$$(cat $(DEMO_DIR)/last_checkpoint)" --work-dir $(DEMO_DIR)/test

test: install
	$(PY) -m pytest

clean:
	rm -rf work_dirs .pytest_cache
