# swsgi: `make` builds the module and the swsgi command; `make run` serves an example with it;
# `make test` tests.
# PYTHON selects the CPython (3.10+) the module embeds: the build, `run`, `test` and `bench`
# follow it. The default is Debian's; the python3 first on PATH may be another build.
PYTHON ?= /usr/bin/python3
# The Python that runs the test harness and tools (Debian's, with its pytest).
HARNESS := /usr/bin/python3
APXS ?= apxs
SWIFT ?= swift
BUILD := build

# Everything about the Python comes from its own sysconfig (tools/python_build_config.py).
PY_CONFIG := $(shell $(PYTHON) tools/python_build_config.py 2>/dev/null || echo "PY_ERROR=PYTHON=$(PYTHON) cannot be run")
ifneq ($(filter PY_ERROR=%,$(firstword $(PY_CONFIG))),)
PY_ERROR := $(patsubst PY_ERROR=%,%,$(PY_CONFIG))
else
$(foreach setting,$(PY_CONFIG),$(eval $(setting)))
endif

# SANITIZE=1 (which `make test-asan` sets): AddressSanitizer in the Swift core and the shim,
# UBSan in the shim (swiftc has no -sanitize=undefined on Linux), in directories of their own.
# The shim is compiled by the clang beside swiftc, whose ASan runtime matches Swift's.
ifdef SANITIZE
VARIANT := -asan
CLANG = $(dir $(realpath $(shell command -v $(SWIFT))))clang
SWIFT_SANITIZE := -Xswiftc -sanitize=address
SHIM_SANITIZE = -S CC=$(CLANG) -Wc,-fsanitize=address,undefined -Wc,-fno-omit-frame-pointer
LINK_SANITIZE := -sanitize=address
endif

# One build directory and one SwiftPM scratch path per Python (and SANITIZE); a stamp wipes
# both when the Python behind a tag changes, so no object built for one Python is linked for
# another.
PYBUILD := $(BUILD)/$(PY_TAG)$(VARIANT)
SCRATCH := .build-$(PY_TAG)$(VARIANT)
STAMP := $(PYBUILD)/python.id
CORE := $(SCRATCH)/release/libSwsgiCore.a
MODULE := $(PYBUILD)/mod_swsgi.so
SWIFT_PYTHON_FLAGS := --scratch-path $(SCRATCH) -Xcc -I$(PY_INCLUDE) -Xcc '-DSWSGI_PYTHON_PROGRAM="$(PY_PROGRAM)"'
PY_LINK := -L$(PY_LIBDIR) -l$(PY_LIBNAME) $(if $(PY_RPATH),-Xlinker -rpath -Xlinker $(PY_RPATH))
SHIM_SOURCES := $(wildcard shim/*.c)
SHIM_HEADERS := $(wildcard shim/*.h)
CORE_SOURCES := $(shell find Sources -path Sources/swsgi -prune -o \( -name '*.swift' -o -name '*.h' -o -name '*.modulemap' \) -print) Package.swift
# Debian packages the build, `make run` and the tests need (and Debian's Python's own).
comma := ,
PACKAGES := apache2 apache2-dev python3-pytest curl $(subst $(comma), ,$(PY_PACKAGES))
# The swsgi command embeds no Python: one build for every Python's module, beside them in build/.
TOOL := $(BUILD)/swsgi
TOOL_SOURCES := $(shell find Sources/swsgi Sources/SwsgiConfig Sources/CLinux -type f) Package.swift
# What `make run` serves: the Flask example in a venv under run/ (the hello one without PyPI).
APP ?= examples/flask/app.wsgi
PORT ?= 8000
# The Pythons beside Debian's that `make test` covers when PYTHON is not given (Tests/pythons.py).
TEST_PYTHON_VERSIONS := 3.10 3.12 3.13

.PHONY: all deps python-check install run test unit-test integration-test test-asan bench clean FORCE

# build/mod_swsgi.so names the module of the last `make`, for whoever wants one path.
all: $(MODULE) $(TOOL)
	@ln -sfn $(PY_TAG)/mod_swsgi.so $(BUILD)/mod_swsgi.so

# Installs what is missing: as root through apt-get, otherwise says what to install.
deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else echo "Please install (as root): apt-get install $$missing"; exit 1; fi; \
	fi

python-check:
	@if [ -n "$(PY_ERROR)" ]; then echo "swsgi: $(PY_ERROR)" >&2; exit 1; fi

$(STAMP): python-check FORCE
	@mkdir -p $(PYBUILD)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(PY_ID)" ]; then rm -rf $(SCRATCH) $(PYBUILD)/* && echo "$(PY_ID)" > $@; fi

# The archive is made anew: SwiftPM would keep members of deleted source files in it.
# SwiftPM does not see a change to a system-library module's header (CPython's, the shim's
# ABI): when one is newer, the objects of the modules importing them go, in every
# configuration, so that they are compiled again.
IMPORTED_HEADERS := $(wildcard Sources/CPython/*.h) shim/swsgi.h
HEADER_IMPORTERS := SwsgiPython SwsgiCore
$(CORE): $(CORE_SOURCES) shim/swsgi.h $(STAMP)
	$(if $(filter $(IMPORTED_HEADERS),$?),rm -f $(foreach m,$(HEADER_IMPORTERS),$(SCRATCH)/*/$(m).build/*.o))
	rm -f $@
	$(SWIFT) build -c release --product SwsgiCore $(SWIFT_PYTHON_FLAGS) $(SWIFT_SANITIZE)

# apxs compiles the shim; swiftc links it with the Swift core, libpython and, statically, the
# parts of the Swift runtime it uses: the module needs no Swift toolchain at run time, and
# Apache's processes map less. It is never unmapped (-z nodelete): Apache unloads and reloads
# modules on every restart, which the Swift runtime and CPython do not survive.
$(MODULE): $(SHIM_SOURCES) $(SHIM_HEADERS) $(CORE) Makefile
	@rm -rf $(PYBUILD)/shim && mkdir -p $(PYBUILD)/shim && cp $(SHIM_SOURCES) $(SHIM_HEADERS) $(PYBUILD)/shim/
	cd $(PYBUILD)/shim && $(APXS) $(SHIM_SANITIZE) -c -Wc,-Wall $(notdir $(SHIM_SOURCES)) >/dev/null
	swiftc -emit-library -static-stdlib $(LINK_SANITIZE) -o $@ $(PYBUILD)/shim/.libs/*.o \
		-Xlinker --whole-archive $(CORE) -Xlinker --no-whole-archive \
		$(PY_LINK) -Xlinker -z -Xlinker nodelete -Xlinker --gc-sections

# The Swift runtime is linked in statically: the command runs without a Swift toolchain.
$(TOOL): $(TOOL_SOURCES)
	$(SWIFT) build -c release --product swsgi --static-swift-stdlib
	@mkdir -p $(BUILD)
	strip -o $@ .build/release/swsgi

install: $(MODULE) $(TOOL)
	install -m 644 $(MODULE) $$($(APXS) -q LIBEXECDIR)/mod_swsgi.so
	install -m 755 $(TOOL) /usr/local/bin/swsgi
	install -m 644 conf/swsgi.load conf/swsgi.conf /etc/apache2/mods-available/

# The benchmark also needs wrk and Debian's mod_wsgi to compare against.
bench: deps $(MODULE)
	@$(MAKE) --no-print-directory deps PACKAGES="wrk libapache2-mod-wsgi-py3"
	SWSGI_MODULE=$(CURDIR)/$(MODULE) PYTHON=$(PYTHON) $(HARNESS) bench/bench.py $(BENCH_ARGS)

run: deps $(MODULE) $(TOOL)
ifeq ($(APP),examples/flask/app.wsgi)
	@test -x run/venv/bin/python || $(PYTHON) -m venv run/venv
	@if run/venv/bin/python -c 'import flask' 2>/dev/null || run/venv/bin/pip install -q -r examples/flask/requirements.txt; then \
		VIRTUAL_ENV=$(CURDIR)/run/venv $(TOOL) serve $(APP) --port $(PORT) --module $(MODULE); \
	else echo "Flask could not be installed; serving the hello example."; \
		$(TOOL) serve examples/hello/hello.wsgi --port $(PORT) --module $(MODULE); fi
else
	$(TOOL) serve $(APP) --port $(PORT) --module $(MODULE)
endif

unit-test: $(STAMP)
	$(SWIFT) test --disable-swift-testing $(SWIFT_PYTHON_FLAGS)

integration-test: $(MODULE) $(TOOL)
	$(if $(SANITIZE),rm -rf $(ASAN_REPORTS) &&) $(ASAN_ENV) \
	SWSGI_MODULE=$(CURDIR)/$(MODULE) SWSGI_TOOL=$(CURDIR)/$(TOOL) PROMTOOL=$(CURDIR)/$(PROMTOOL) PYTHON=$(PYTHON) $(HARNESS) -m pytest -q Tests/integration

# The integration suite against the sanitized module. Apache is not instrumented, so the ASan
# runtime is preloaded into it; the harness fails on any report (Tests/integration/conftest.py).
# Leak checking is off: processes that end by exit() without tearing down (Apache's start and
# stop commands, its children) leave memory that LeakSanitizer counts as leaked.
test-asan:
	$(MAKE) --no-print-directory integration-test SANITIZE=1
ASAN_REPORTS = $(CURDIR)/$(PYBUILD)/sanitizer-reports
ASAN_ENV = $(if $(SANITIZE),SWSGI_TEST_PRELOAD=$(shell $(CLANG) -print-file-name=libclang_rt.asan-$(shell uname -m).so) \
	SWSGI_TEST_ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:print_stacktrace=1:detect_stack_use_after_return=1:strict_string_checks=1 SWSGI_TEST_ASAN_REPORTS=$(ASAN_REPORTS))

# promtool, which checks the metrics exposition (Tests/integration/test_metrics.py): the one
# binary out of Debian's prometheus package (19 MB), whose install would bring a server, its
# service and 330 MB of JavaScript libraries.
PROMTOOL := $(BUILD)/promtool
$(PROMTOOL): | deps
	@rm -rf $@.d && mkdir -p $@.d && cd $@.d && apt-get download -q prometheus >/dev/null && \
		dpkg-deb --fsys-tarfile prometheus_*.deb | tar -xO ./usr/bin/promtool > promtool && chmod +x promtool
	@mv $@.d/promtool $@ && rm -rf $@.d

# PYTHON given: that Python. Otherwise Debian's and the pyenv builds this machine has, each
# through a readable copy (Tests/pythons.py): the unit tests once, the integration suite each.
test: deps $(PROMTOOL)
	$(MAKE) unit-test
ifeq ($(origin PYTHON),file)
	@for python in $$($(HARNESS) Tests/pythons.py $(TEST_PYTHON_VERSIONS)); do \
		echo "== integration tests, PYTHON=$$python"; \
		$(MAKE) --no-print-directory integration-test PYTHON=$$python || exit 1; \
	done
else
	$(MAKE) integration-test
endif

clean:
	rm -rf $(BUILD) .build .build-py*
