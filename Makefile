# Two commands: `make run` serves the site with a scoring worker; `make test` runs the suite.
# Both install what they need into .venv first (torch's CPU build before everything else).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
FLASK  := $(VENV)/bin/flask --app wsgi
PORT   ?= 5000
APT    := DEBIAN_FRONTEND=noninteractive apt-get
# torch's CPU build. Where pip does not already find it locally, point at PyTorch's CPU wheel
# index, e.g. `make run TORCH_INDEX=https://download.pytorch.org/whl/cpu`.
TORCH_INDEX ?=
TORCH_PIP_ARGS := $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)

.PHONY: run test bench bench-deps heads install install-test system-test-deps lint clean

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# A bare `pip install detoxify` would pull a multi-GB CUDA build of torch.
	$(PIP) install --quiet $(TORCH_PIP_ARGS) torch==2.13.0
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -e '.[test]'
	touch $@

instance/config.py:
	mkdir -p instance
	$(PYTHON) -c "import secrets; print('SECRET_KEY = %r' % secrets.token_hex(32))" > $@
	chmod 600 $@
	@echo "Wrote $@ with a new random SECRET_KEY."

run: install instance/config.py
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	# The scorer's caches (ONNX encoder, example embeddings) before the worker needs them.
	$(FLASK) model prepare
	# exec: the supervisor is make's own child, and stops if make is killed.
	PORT=$(PORT) exec $(FLASK) supervise --stop-with-parent

# Debian's Chromium for the browser tests and PostgreSQL server binaries for the
# PostgreSQL half of the suite. Installed when missing (needs root, as in CI).
system-test-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing$$missing from Debian"; \
	    $(APT) update -qq && $(APT) install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing$$missing and not root: those tests will be skipped with a reason."; \
	  fi; \
	fi

test: install-test system-test-deps
	$(PY) -m ruff check moderation tests bench wsgi.py
	$(PY) -m pytest

# wrk for the closed-loop load (bench/load.py skips that part without it).
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then $(APT) install -y -qq wrk >/dev/null; \
	  else echo "wrk is missing and not root: the closed loop will be skipped."; fi; }

bench: install-test system-test-deps bench-deps
	$(PY) -m bench.run
	$(PY) -m bench.scoring_report
	$(PY) -m bench.performance_doc

# Retrain the offline composite from its corpus and OLID (../shared/data/olid): the encoder's
# adapter (about half an hour on two cores), then the label heads and their calibration. Commit
# scoring/adapter.safetensors and scoring/heads.json; `make test` checks they match the corpus.
heads: install-test
	$(PY) -m moderation.scoring.finetune
	$(PY) -m moderation.scoring.train_heads

lint: install-test
	$(PY) -m ruff check moderation tests bench wsgi.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
