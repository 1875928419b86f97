# The whole set-up on a fresh machine: `make demo` (the main job) and `make test`.
# Every install resolves the versions in requirements.lock; `make lock` refreshes that file (then commit it).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
LOCK_VENV := .lock-venv
# Debian packages: PortAudio for sounddevice and PulseAudio for a virtual microphone (the microphone tests),
# flite for its four voices built from real recordings (the corpus leaves them out without it).
SYSTEM_PACKAGES := libportaudio2 pulseaudio pulseaudio-utils flite

.PHONY: install system-deps test test-fast demo lock clean

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(LOCK) -e '.[test]'
	$(BIN)/python -m asr_cnn.data.voices.engines || echo "without kokoro-js's English voices, corpora that name them will not build"
	touch $(STAMP)

install: $(STAMP)

# Re-resolve every dependency from pyproject.toml in a scratch venv and write the exact versions to
# requirements.lock. A dependency update is this command plus a commit that CI tests.
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install -q '.[test,bench]'
	{ echo "# Exact versions every install uses (pip constraints). Refresh: make lock"; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude asr_cnn --exclude pip; } > $(LOCK)
	rm -rf $(LOCK_VENV) build

# Installs those Debian packages when running as root and they are missing; otherwise the microphone
# tests skip and the corpus leaves flite out, each with a message naming the package.
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $$missing"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null) \
			|| echo "could not install $$missing: microphone tests skip, flite voices are left out"; \
	else echo "missing $$missing (install with: apt-get install $$missing): microphone tests skip, flite voices are left out"; fi

# pytest exits 5 when it collects no test; that is a failure of the suite, said plainly.
test: install system-deps
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

# Day-to-day: everything but the tests marked slow.
test-fast: install system-deps
	@$(BIN)/python -m pytest -m 'not slow'; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

demo: install system-deps
	$(BIN)/python -m asr_cnn.demo

clean:
	rm -rf $(VENV) $(LOCK_VENV) .pytest_cache .hypothesis
