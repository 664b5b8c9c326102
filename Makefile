# mmsmmix: `make demo` trains and evaluates SMMix on Fashion-MNIST; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FMNIST := /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

DEMO_CONFIG ?= configs/fashion_mnist/vit-mini-p7_smmix_1xb64_fmnist.py
DEMO_DIR ?= work_dirs/demo
# The compiled mmcv of the dense extra is built once per torch version and
# kept here, outside the repo, for every later venv and clone.
DENSE_CACHE ?= $(HOME)/.cache/mmsmmix
MMCV_DIR := $(DENSE_CACHE)/mmcv-2.1.0-torch-2.14.1-cp311

.PHONY: install dense demo test clean

install: $(VENV)/.installed $(FMNIST)

# The venv is rebuilt only when the requirements or setup.py change.
$(VENV)/.installed: requirements/runtime.txt requirements/tests.txt setup.py
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements/runtime.txt -r requirements/tests.txt
	$(PY) -m pip install --no-deps --no-build-isolation -e .
	touch $@

# mmsegmentation + mmdetection + compiled mmcv 2.1.0 in place of mmcv-lite
# (redone after a reinstall of the base stack, which brings mmcv-lite back).
dense: install $(VENV)/.dense

$(VENV)/.dense: $(VENV)/.installed requirements/dense.txt $(MMCV_DIR)/.built
	$(PY) -m pip uninstall -y mmcv-lite
	$(PY) -m pip install --force-reinstall --no-deps $(MMCV_DIR)/mmcv-2.1.0-*.whl
	$(PY) -m pip install -r requirements/dense.txt -c requirements/runtime.txt
	touch $@

$(MMCV_DIR)/.built:
	PY=$(PY) bash tools/misc/build_mmcv.sh $(MMCV_DIR)
	touch $@

$(FMNIST):
	$(SUDO) apt-get update
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y dataset-fashion-mnist

demo: install
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)
	$(PY) tools/test.py $(DEMO_CONFIG) "$$(cat $(DEMO_DIR)/last_checkpoint)" --work-dir $(DEMO_DIR)/test \
		--cfg-options test_evaluator.1.dump_dir=$(DEMO_DIR)/calibration
	$(PY) tools/visualize_smmix.py $(DEMO_CONFIG) --checkpoint "$$(cat $(DEMO_DIR)/last_checkpoint)" --num 4 --out $(DEMO_DIR)/smmix_pairs.png
	@echo "SMMix pairs:         $(DEMO_DIR)/smmix_pairs.png"
	@echo "Reliability diagram: $(DEMO_DIR)/calibration/reliability_diagram.png"

# CI runs this: the dense extra is installed too, so no test skips.
test: install dense
	$(PY) -m pytest

clean:
	rm -rf work_dirs .pytest_cache
