# AI models as a service — the course's commands.
#   make course [MODE=fast]   set up .venv when missing, then run every notebook headless (copies in build/)
#   make test                 set up .venv when missing, then library tests + nbval on every notebook (fast, offline)
#   make lab [LAB_PORT=8888 LAB_ARGS=...]  JupyterLab in the course environment (adds --allow-root as root)
#   make data                 regenerate data/ from its source packages and print the manifest
#   make serve [PORT=8000 REGISTRY=models]  serve the registry's models (trains the small defaults when it is empty)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
MODE ?= full
STAMP := $(VENV)/.aiaas-installed

.PHONY: help venv system-data course test lab data serve bench clean
help:
	@sed -n '2,7p' Makefile

venv: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@echo "== creating the course environment in $(VENV) (first time: a few minutes, ~3 GB)"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@$(MAKE) --no-print-directory system-data
	touch $(STAMP)

# Debian packages that carry course data (the full Fashion-MNIST). Optional: without them the loaders
# use the subsets shipped in data/ and say so.
DEB_DATA := dataset-fashion-mnist
system-data:
	@if [ -d /usr/share/datasets/fashion-mnist ]; then \
	  echo "== Debian data packages present: $(DEB_DATA)"; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  echo "== installing Debian data packages: $(DEB_DATA)"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEB_DATA) >/dev/null 2>&1 \
	  || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(DEB_DATA) >/dev/null 2>&1; } \
	  || echo "== apt-get could not install $(DEB_DATA); the course uses the subsets shipped in data/"; \
	else \
	  echo "== not root or no apt-get: skipping $(DEB_DATA); the course uses the subsets shipped in data/"; \
	fi

course: $(STAMP)
	AIAAS_MODE=$(MODE) $(BIN)/python -m aiaas_lib.course --out build/course

test: $(STAMP)
	AIAAS_MODE=fast AIAAS_OFFLINE=1 $(BIN)/python -m pytest tests/ notebooks/ \
	  --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg

# As root (containers, devcontainers) JupyterLab refuses to start without --allow-root, so it is added
# there. LAB_ARGS passes extra flags (e.g. LAB_ARGS="--ip=0.0.0.0 --no-browser" inside a container).
# The token is made here so that the URL to open can be printed before JupyterLab's own log starts.
LAB_PORT ?= 8888
LAB_ARGS ?=
lab: $(STAMP)
	@token=$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(24))'); \
	root_flag=$$([ "$$(id -u)" = 0 ] && echo --allow-root); \
	[ -n "$$root_flag" ] && echo "== running as root: passing --allow-root to JupyterLab"; \
	echo "== open http://127.0.0.1:$(LAB_PORT)/lab?token=$$token  (Ctrl-C twice stops JupyterLab)"; \
	exec $(BIN)/jupyter lab notebooks/ --port=$(LAB_PORT) --port-retries=0 \
	  --IdentityProvider.token="$$token" $$root_flag $(LAB_ARGS)

data: $(STAMP)
	$(BIN)/python data/make_data.py

# The defaults are trained in fast mode (small models, under a minute) unless MODE is given explicitly.
PORT ?= 8000
REGISTRY ?= models
serve: $(STAMP)
	@if [ -z "$$($(BIN)/python -c 'import sys; from aiaas_lib.packaging.registry import ModelRegistry; print(*ModelRegistry(sys.argv[1]).models())' '$(REGISTRY)')" ]; then \
	  echo "== $(REGISTRY) has no models: training the defaults first"; \
	  $(BIN)/aiaas train-defaults --registry '$(REGISTRY)' --mode $(if $(filter command line environment,$(origin MODE)),$(MODE),fast) || exit 1; \
	fi
	$(BIN)/aiaas serve --registry '$(REGISTRY)' --port $(PORT)

bench: $(STAMP)
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf build
