# Developer commands. A newcomer needs two:
#   make run    build and boot a sample app end to end, print the page it served
#   make test   unit tests, then the integration suite in the heroku-24 stack
#
# Without a Docker engine (this project's machines and CI), the stack is a
# Debian stand-in rootfs made with debootstrap; see test/stack/.

SHELL := /bin/bash
STACK ?= heroku-24
FIXTURE ?= test/fixtures/flask_app
VENV := .venv
PYTHON := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
# Parallel integration tests (pytest-xdist); override with JOBS=1.
JOBS ?= 2
SYSTEM_PACKAGES := debootstrap patchelf binutils zstd

.PHONY: setup vendor run bench test test-unit test-integration test-heroku-22 test-heroku-24 test-heroku-26 clean

setup: $(VENV)/.installed
	@missing=""; for tool in debootstrap patchelf strip zstd; do command -v $$tool >/dev/null || missing=1; done; \
	if [[ -n "$$missing" ]]; then \
		echo "Installing $(SYSTEM_PACKAGES) (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Re-creates vendor/python/ (the libraries the buildpack imports) from the
# pins in vendor/requirements.txt: bump a pin, run this, commit vendor/.
vendor: $(VENV)/.installed
	PYTHON=$(PYTHON) vendor/update.sh

run: setup
	STACK=$(STACK) TEST_STACK=$(STACK) $(PYTHON) test/run_sample.py $(FIXTURE)

# Build times (empty cache, unchanged rebuild, changed requirements): a
# script to rerun, not a test. APPS="flask_app uv_app" REPEAT=3 narrow it.
bench: setup
	TEST_STACK=$(STACK) $(PYTHON) test/benchmark.py

test: test-unit test-heroku-24

test-unit: setup
	$(PYTEST) test/unit

# The integration suite inside the given stack: in heroku/heroku:NN-build
# when a Docker engine runs, otherwise in the Debian stand-in (chroot).
test-heroku-22 test-heroku-24 test-heroku-26: test-heroku-%: setup
	@if docker info >/dev/null 2>&1; then \
		echo "Running the integration suite in heroku/heroku:$*-build (Docker)"; \
		docker build --quiet --build-arg STACK_VERSION=$* -f Dockerfile.test -t python-buildpack-test:$* . && \
		docker run --rm python-buildpack-test:$*; \
	else \
		echo "No Docker engine: running the integration suite for heroku-$* in a Debian stand-in rootfs (chroot)"; \
		TEST_STACK=heroku-$* $(PYTEST) -n $(JOBS) test/integration; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
