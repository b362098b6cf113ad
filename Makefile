# The one place where the course's commands live.  `make help` lists them.
#
# Every target that needs Python creates the virtual environment .venv and installs the pinned
# requirements on first use (and again when requirements.txt or pyproject.toml change).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BOOK_BUILD_FLAGS := --all -W -n --keep-going
NBVAL_FLAGS := --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-current-env
# Notebooks that carry stored outputs (nbval compares them).  exercises/ is the learner's and is
# never executed or written by these targets.
EXECUTED_NOTEBOOKS := $(wildcard chapters/*.ipynb solutions/*.ipynb)

.PHONY: help venv dot browser gpu-check book book-fresh execute test lint format grade lab bench colab-links clean

help:
	@echo "make book        build the website into _build/html (from stored outputs)"
	@echo "make test        run every test: lint, engine, grader, nbval, book build, browser"
	@echo "make grade       grade your exercise notebooks in exercises/ (never writes to them)"
	@echo "make lab         start JupyterLab on the course"
	@echo "make execute     re-execute chapters/ and solutions/ top to bottom, storing outputs"
	@echo "make book-fresh  re-execute every notebook, then build the website"
	@echo "make format      format the engine, tests, chapters and solutions with ruff"
	@echo "make bench       time the engine against PyTorch; write benchmarks/results.json"
	@echo "make gpu-check   on a CUDA machine: run the notebooks with PyTorch on the GPU (nbval)"
	@echo "make colab-links write _config.yml's repository into every notebook's Colab badge and set-up cell"
	@echo "make clean       remove the build output and the virtual environment"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Graphviz's `dot` program draws the computation graphs.  Install it when it is missing and we
# can (root with apt-get); otherwise stop and say how.
dot:
	@if command -v dot >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Graphviz (dot) with apt-get..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	else \
		echo "Graphviz's 'dot' program is missing. Install it, then run make again:"; \
		echo "  Debian/Ubuntu:  sudo apt-get install graphviz"; \
		echo "  macOS:          brew install graphviz"; \
		echo "  conda:          conda install -c conda-forge graphviz"; \
		exit 1; \
	fi

# Headless Chromium and its driver for the browser tests (tests/test_browser.py).  Installed
# like Graphviz when we can; when we cannot, say so loudly and go on: those tests are then
# skipped, with the reason in pytest's summary.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Chromium and ChromeDriver with apt-get..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
			|| echo "WARNING: could not install Chromium; the browser tests will be SKIPPED."; \
	else \
		echo "WARNING: Chromium or ChromeDriver is missing; the browser tests will be SKIPPED."; \
		echo "  Debian/Ubuntu:  sudo apt-get install chromium chromium-driver"; \
	fi

book: venv dot
	$(BIN)/jupyter-book build . $(BOOK_BUILD_FLAGS)
	@echo "Open _build/html/index.html in a browser."

execute: venv dot
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=300 --ExecutePreprocessor.kernel_name=python3 \
		$(EXECUTED_NOTEBOOKS)

book-fresh: execute book

lint: venv
	$(BIN)/ruff check engine tests benchmarks tools _ext chapters exercises solutions
	$(BIN)/ruff format --check engine tests benchmarks tools _ext chapters solutions

# Formats the course's own code; never the learner's notebooks in exercises/.
format: venv
	$(BIN)/ruff format engine tests benchmarks tools _ext chapters solutions
	$(BIN)/ruff check --fix engine tests benchmarks tools _ext chapters solutions

# nbval runs over chapters/; the solution notebooks are run cell by cell by the grader tests
# (tests/test_grading.py), which is what matters about them.
test: venv dot browser lint
	$(BIN)/python -m pytest -rs tests chapters $(NBVAL_FLAGS)

# Not part of `make test`: times are measured, never asserted.  About a minute.
bench: venv
	$(BIN)/python -m benchmarks.bench

grade: venv
	$(BIN)/python -m engine.grading exercises $(if $(CHAPTER),--chapter $(CHAPTER))

# Jupyter refuses to run as root unless told; containers often run as root.
lab: venv dot
	$(BIN)/jupyter lab --notebook-dir=. $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# On a machine with a CUDA GPU: strict nbval with PyTorch's side on the GPU.
gpu-check: venv dot
	tests/gpu_check.sh

# A fork sets repository.url (and branch) in _config.yml, then runs this once and commits.
colab-links: venv
	$(BIN)/python -m tools.colab_links

clean:
	rm -rf _build $(VENV)
