# Two entry points: `make demo` (the main job) and `make test`. Each sets up what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH_VERSION ?= 2.14.1
SYSTEM_PACKAGES := ffmpeg chromium chromium-driver

.PHONY: test demo lint format system-packages clean

system-packages:
	@if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
		else \
			echo "Please install: $(SYSTEM_PACKAGES) (torchcodec needs FFmpeg's shared libraries)"; exit 1; \
		fi; \
	fi

$(STAMP): pyproject.toml
	$(MAKE) system-packages
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "torch==$(TORCH_VERSION)"
	$(PY) -m pip install -q -e ".[dev]" "torch==$(TORCH_VERSION)"
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check src tests scripts spaces
	$(VENV)/bin/ruff check src tests scripts spaces

format: $(STAMP)
	$(VENV)/bin/ruff format src tests scripts spaces
	$(VENV)/bin/ruff check --fix src tests scripts spaces

test: $(STAMP) lint
	$(PY) -m pytest -q

demo: $(STAMP)
	$(VENV)/bin/nitrogen-hf demo --out demo_out

clean:
	rm -rf $(VENV) demo_out .pytest_cache .ruff_cache
