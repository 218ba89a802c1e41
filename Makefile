# swsgi: `make` builds build/mod_swsgi.so; `make run` serves the examples; `make test` tests.
# Debian's Python is the one the module embeds; the python3 first on PATH may be another build.
PYTHON ?= /usr/bin/python3
APXS ?= apxs
SWIFT ?= swift
BUILD := build
CORE := .build/release/libSwsgiCore.a
MODULE := $(BUILD)/mod_swsgi.so
SHIM_SOURCES := $(wildcard shim/*.c)
SHIM_HEADERS := $(wildcard shim/*.h)
CORE_SOURCES := $(shell find Sources -name '*.swift' -o -name '*.h' -o -name '*.modulemap') Package.swift
# Debian packages the build, `make run` and the tests need.
PACKAGES := apache2 apache2-dev pkgconf libpython3.11-dev python3.11-venv python3-pytest curl

.PHONY: all deps install run test unit-test integration-test bench clean

all: $(MODULE)

# Installs what is missing: as root through apt-get, otherwise says what to install.
deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else echo "Please install (as root): apt-get install $$missing"; exit 1; fi; \
	fi

# The archive is made anew: SwiftPM would keep members of deleted source files in it.
$(CORE): $(CORE_SOURCES) shim/swsgi.h
	rm -f $@
	$(SWIFT) build -c release --product SwsgiCore

# apxs compiles the shim; swiftc links it with the Swift core and, statically, the parts of
# the Swift runtime it uses: the module needs no Swift toolchain at run time, and Apache's
# processes map less. It is never unmapped (-z nodelete): Apache unloads and reloads modules
# on every restart, which the Swift runtime and CPython do not survive.
$(MODULE): $(SHIM_SOURCES) $(SHIM_HEADERS) $(CORE) Makefile
	@rm -rf $(BUILD)/shim && mkdir -p $(BUILD)/shim && cp $(SHIM_SOURCES) $(SHIM_HEADERS) $(BUILD)/shim/
	cd $(BUILD)/shim && $(APXS) -c -Wc,-Wall $(notdir $(SHIM_SOURCES)) >/dev/null
	swiftc -emit-library -static-stdlib -o $@ $(BUILD)/shim/.libs/*.o \
		-Xlinker --whole-archive $(CORE) -Xlinker --no-whole-archive \
		-lpython3.11 -Xlinker -z -Xlinker nodelete -Xlinker --gc-sections

install: $(MODULE)
	install -m 644 $(MODULE) $$($(APXS) -q LIBEXECDIR)/mod_swsgi.so
	install -m 644 conf/swsgi.load conf/swsgi.conf /etc/apache2/mods-available/

# The benchmark also needs wrk and Debian's mod_wsgi to compare against.
bench: deps $(MODULE)
	@$(MAKE) --no-print-directory deps PACKAGES="wrk libapache2-mod-wsgi-py3"
	$(PYTHON) bench/bench.py $(BENCH_ARGS)

run: deps $(MODULE)
	PYTHON=$(PYTHON) $(PYTHON) examples/serve.py $(MODULE)

unit-test:
	$(SWIFT) test --disable-swift-testing

integration-test: $(MODULE)
	SWSGI_MODULE=$(CURDIR)/$(MODULE) PYTHON=$(PYTHON) $(PYTHON) -m pytest -q Tests/integration

test: deps
	$(MAKE) unit-test
	$(MAKE) integration-test

clean:
	rm -rf $(BUILD) .build
