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

# The verified versions of everything `make` installs (pip -c).
CONSTRAINTS := requirements/constraints.txt
# make wheelhouse [WHEELHOUSE=DIR] [WHEEL_PYTHON=3.12] [WHEEL_PLATFORM=manylinux_2_28_x86_64]
WHEELHOUSE ?= wheelhouse
WHEEL_PYTHON ?=
WHEEL_PLATFORM ?=

.PHONY: install dense slurm demo test test-fast lint guard docs wheelhouse \
	dist clean

install: $(VENV)/.installed $(FMNIST)

# The venv is rebuilt only when the requirements or setup.py change.
# torch/torchvision and mmcv-lite + mmengine (the `lite` extra) first, at the
# verified versions; then this package in editable mode, whose declared
# requirements must be met by them (setuptools is needed by the build).
$(VENV)/.installed: requirements/*.txt setup.py
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -c $(CONSTRAINTS) torch torchvision setuptools \
		-r requirements/runtime.txt -r requirements/lite.txt -r requirements/tests.txt
	$(PY) -m pip install -c $(CONSTRAINTS) -r requirements/docs.txt
	$(PY) -m pip install -c $(CONSTRAINTS) --no-build-isolation -e ".[lite]"
	touch $@

# mmsegmentation + mmdetection + compiled mmcv 2.1.0 in place of mmcv-lite
# (redone after a reinstall of the base stack, which brings mmcv-lite back).
dense: install $(VENV)/.dense

$(VENV)/.dense: $(VENV)/.installed requirements/dense.txt $(MMCV_DIR)/.built
	$(PY) -m pip uninstall -y mmcv-lite
	$(PY) -m pip install --force-reinstall --no-deps $(MMCV_DIR)/mmcv-2.1.0-*.whl
	$(PY) -m pip install -r requirements/dense.txt -c $(CONSTRAINTS)
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
	$(PY) tools/visualize_mixing.py $(DEMO_CONFIG) $(filter-out $(DEMO_CONFIG),$(foreach m,smmix mixup cutmix mixup-cutmix resizemix fmix transmix mixpro smmix-dm rankmixup,configs/fashion_mnist/vit-mini-p7_$(m)_1xb64_fmnist.py)) \
		--checkpoint "$$(cat $(DEMO_DIR)/last_checkpoint)" --num 2 --out $(DEMO_DIR)/mixing_methods.png
	@echo "SMMix pairs:         $(DEMO_DIR)/smmix_pairs.png"
	@echo "Mixing methods:      $(DEMO_DIR)/mixing_methods.png"
	@echo "Reliability diagram: $(DEMO_DIR)/calibration/reliability_diagram.png"

# Slurm (slurmctld, slurmd, srun) and munge for the launcher tests, which
# start a private single-node cluster; nothing is started here.
slurm:
	[ -x /usr/sbin/slurmd ] && [ -x /usr/sbin/munged ] && command -v srun >/dev/null || { $(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y slurm-wlm munge; }

# CI runs this: the dense extra and Slurm are installed too, so no test skips.
test: install dense slurm
	$(PY) -m pytest

# Everyday work: the in-process tests, in a few minutes on 2 cores: no
# `slow` test (it starts processes or trains end to end) and no `dense` one
# (pytest.ini). `make test` runs them all.
test-fast: install
	$(PY) -m pytest -m "not slow and not dense"

# Style: flake8 and isort as setup.cfg configures them (the suite runs the
# same check; `isort .` fixes the import order).
lint: install
	$(VENV)/bin/flake8
	$(VENV)/bin/isort --check-only --diff .

# The numerics guard (tests/test_models/test_outputs_unchanged.py) with 1
# and 2 threads, under this CPU's own kernels and under AVX2 ones (PyTorch,
# MKL, oneDNN), so a portability break shows here before CI sees it.
AVX2_ENV := ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
guard: install
	$(PY) -m tests.test_models.test_outputs_unchanged --check --threads 1 2
	$(AVX2_ENV) $(PY) -m tests.test_models.test_outputs_unchanged --check --threads 1 2

# The documentation (docs/, Markdown) into docs/_build/html, warnings as
# errors (tests/test_docs/ builds it too).
docs: install
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

# Every wheel mmsmmix[lite] needs except torch/torchvision, for offline
# machines: pip install --no-index --find-links wheelhouse "mmsmmix[lite]"
wheelhouse: install
	$(PY) tools/misc/wheelhouse.py $(WHEELHOUSE) -c $(CONSTRAINTS) \
		$(if $(WHEEL_PYTHON),--python-version $(WHEEL_PYTHON)) \
		$(if $(WHEEL_PLATFORM),--platform $(WHEEL_PLATFORM))

# The mmsmmix sdist and the wheel built from it (configs, tools and model
# index in mmsmmix/.mim).
dist: install
	$(PY) tools/misc/wheelhouse.py dist --wheel-only --sdist

clean:
	rm -rf work_dirs .pytest_cache build dist wheelhouse
