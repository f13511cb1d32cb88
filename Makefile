# Frontline: `make run` sets everything up and starts it; `make test` sets up and runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# `make run-scaled RASA=2` says how many Rasa servers; $(RASA) itself stays the rasa program.
RASA_SERVERS := $(if $(filter command line,$(origin RASA)),$(RASA),2)
override RASA := $(VENV)/bin/rasa
MODEL := models/frontline.tar.gz
TRAINING_INPUTS := config.yml domain.yml escalation.yml $(shell find data -type f -name '*.yml' 2>/dev/null)

# python3.10 may be a pyenv shim that refuses to run; find an interpreter that really is 3.10.
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	if $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then echo $$p; break; fi; done)

# RASA_TOKEN as honcho gives it to the processes: .env (`make secrets`) first, then the environment, then the
# development default; so `make reload` speaks to the hub with the token the hub has.
DOTENV_RASA_TOKEN := $(shell sed -n 's/^[[:space:]]*RASA_TOKEN[[:space:]]*=[[:space:]]*//p' .env 2>/dev/null | tail -n 1 | tr -d "\"'")
export RASA_TOKEN := $(or $(DOTENV_RASA_TOKEN),$(RASA_TOKEN),frontline-dev-token)
# ACTIONS_TOKEN, read the same way: what Rasa sends the action server (endpoints.yml), so `make shell` matches it.
DOTENV_ACTIONS_TOKEN := $(shell sed -n 's/^[[:space:]]*ACTIONS_TOKEN[[:space:]]*=[[:space:]]*//p' .env 2>/dev/null | tail -n 1 | tr -d "\"'")
export ACTIONS_TOKEN := $(or $(DOTENV_ACTIONS_TOKEN),$(ACTIONS_TOKEN),frontline-dev-actions-token)
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: help run run-scaled secrets shell test test-fast eval eval-escalation bench soak bench-report validate train reload lint shop-db install clean screens

help:
	@echo "make run       set up everything and start the hub (8080), two Rasa servers (5005, 5015) and the action server (5055)"
	@echo "make test      set up everything and run the whole test suite"
	@echo "make run-scaled HUBS=2 RASA=2  nginx (8080) in front of N hubs, M Rasa servers, PostgreSQL and Redis (deploy/README.md)"
	@echo "make secrets   write strong random CHANNEL_SECRET, RASA_TOKEN, ACTIONS_TOKEN to .env (kept if there; make run reads it)"
	@echo "make shell     chat in the terminal (rasa shell on port 5006, using the running action server)"
	@echo "make eval      score the model on benchmarks/data (Bitext intents + order_id, CLINC150 out-of-scope)"
	@echo "              then Rasa's NLU report on the same data: per-intent precision/recall/F1, confusion matrix in results/nlu"
	@echo "make eval-escalation  who the trained bot hands to a person after one message (escalation dev set, Bitext, TweetEval, ours)"
	@echo "make bench     Frontline against stock rasa run (same model and action server): 10x50 turns, 200 turns, hub overhead, 1,000 idle sockets;"
	@echo "              then the scaled mode with 1 and 2 hubs and Rasa servers, and a model of N machines"
	@echo "make soak      200 web customers and 3 agents for 5 min on SQLite, then on PostgreSQL: nothing may be lost"
	@echo "make bench-report  the supervisors' Insight page on a year of history (100,000 conversations)"
	@echo "make train     train the model if data/, domain.yml or config.yml changed"
	@echo "make reload    train if needed, then load the model into the running Rasa server (through the hub: no message lost)"
	@echo "make validate  rasa data validate, then the project's own checks (bot/training/data_checks.py: examples, test stories, responses)"
	@echo "make lint      ruff, the layer contracts (import-linter) and mypy on bot/domain, bot/store, bot/core, bot/rasa"
	@echo "make test-fast the tests that need no trained model and no servers (about 2 minutes)"
	@echo "make screens   copy README's three screenshots from results/screens/ (saved by the browser tests) to docs/screens/"

$(VENV)/.installed: requirements.txt requirements-no-deps.txt constraints.txt
	@if [ -z "$(PYTHON310)" ]; then \
		echo "Frontline needs Python 3.10 (Rasa 3.6 supports 3.8-3.10), and no python3.10 was found."; \
		echo "Install it, e.g. 'pyenv install 3.10' or 'apt install python3.10 python3.10-venv', then run make again."; \
		exit 1; fi
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip<25"
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-no-deps.txt
	$(PY) -m bot.rasa.sentence_vectors
	@touch $@

install: $(VENV)/.installed

# Idempotent: creates and seeds the shop database only when it is missing or empty.
shop-db: $(VENV)/.installed
	$(PY) -m actions.orders.demo_shop

# Retrain only when the training inputs are newer than the model (order-only on the venv: reinstalling
# packages does not force a retrain).
$(MODEL): $(TRAINING_INPUTS) | $(VENV)/.installed
	$(RASA) train --fixed-model-name frontline --out models

train: $(MODEL)

reload: $(MODEL)
	$(PY) -m bot reload --model $(MODEL)

validate: $(VENV)/.installed
	$(RASA) data validate --fail-on-warnings
	$(PY) -m bot.training.data_checks

run: shop-db $(MODEL)
	$(VENV)/bin/honcho start -f Procfile

# The scaled mode on this machine: PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) must be running; nginx from
# Debian's package is installed when missing; var/scaled/ gets the Procfile, nginx.conf and endpoints.yml.
HUBS ?= 2
RASA_WORKERS ?= 1
NGINX := /usr/sbin/nginx
$(NGINX):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; \
	else echo "The scaled mode needs Debian's nginx package: apt-get install nginx"; exit 1; fi

run-scaled: $(MODEL) $(NGINX)
	$(PY) -m deploy.scaled --hubs $(HUBS) --rasa $(RASA_SERVERS) --rasa-workers $(RASA_WORKERS)

# Never printed; values already in .env are kept (README, "Running in production").
secrets: $(VENV)/.installed
	$(PY) -m bot secrets --env-file .env

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else echo "The browser tests need Debian's chromium package: apt-get install chromium"; exit 1; fi

# Two workers (pytest-xdist), a test file each at a time: much of the suite waits on real servers.
test: shop-db $(MODEL) $(CHROMIUM) $(NGINX) lint
	$(PY) -m pytest -n 2 --dist loadfile --durations=15

test-fast: $(VENV)/.installed lint
	$(PY) -m pytest -m "not stack and not model"

shell: $(MODEL)
	$(RASA) shell --port 5006 --model $(MODEL)

eval: $(VENV)/.installed $(MODEL)
	$(PY) -m benchmarks.bitext_eval --model $(MODEL)
	$(PY) -m benchmarks.nlu_report --model $(MODEL)

eval-escalation: $(VENV)/.installed $(MODEL)
	$(PY) -m benchmarks.escalation_eval

# Frontline against stock `rasa run` (same model, same action server), in one run: results/bench/latest.json;
# then the scaled mode with 1 and 2 hubs and Rasa servers and the model of N machines: latest-scaled.json.
bench: shop-db $(MODEL) $(NGINX)
	$(PY) -m benchmarks.bench
	$(PY) -m benchmarks.bench_scaled

# PostgreSQL: a fresh database on the server at 127.0.0.1:5432 (trust auth), dropped afterwards.
soak: shop-db $(MODEL)
	$(PY) -m benchmarks.soak

bench-report: $(VENV)/.installed
	$(PY) -m benchmarks.report_latency

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# README's three pictures, from the screenshots the browser tests save (results/screens/, not kept in git).
README_SCREENS := widget-refund-confirm widget-queued console-refund-confirm
screens:
	@for name in $(README_SCREENS); do test -f results/screens/$$name.png || { echo "results/screens/$$name.png is missing: run the browser tests (make test)"; exit 1; }; done
	mkdir -p docs/screens && for name in $(README_SCREENS); do cp results/screens/$$name.png docs/screens/; done

# Everything trained or measured, Rasa's training cache included, so the next `make train` starts from scratch.
clean:
	rm -rf models results .rasa .pytest_cache
