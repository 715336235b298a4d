# nogilrace — top-level build.
#
#   make                  build/libnogilrace.so, build/nogilrace-<tag>.so for $(PYTHON), build/nogilrace
#   make PYTHON=/p/python3.13t   hooks for another interpreter (several tags coexist in build/);
#                                one without a port (see below) stops make with one line saying so
#   make check            unit tests, end-to-end tests with the real free-threaded python, corpus
#   make demo             run the bundled racy example under the detector and print the report
#   make bench            overhead / memory / trace size / analyzer speed (see bench/)
#   make fuzz             fuzz the trace reader (FUZZ_SECONDS, default 600)
#   make SANITIZE=address,undefined BUILD=build-asan [analyzer unit-tests]
#                         the same, instrumented by the sanitizers (compile and link); `make check`
#                         runs the unit tests and the analyzer's end-to-end tests so in $(BUILD)/asan
#   CFLAGS=... LDFLAGS=...  extra flags; CFLAGS reach every compile and link line
#
# Sources are found by pattern, so adding a file needs no Makefile edit:
#   common/*.c            linked into everything
#   preload/*.c           libnogilrace.so; preload/hook_*.c are the only files defining libc symbols
#   preload/cpython/*.c   the hooks library; preload/cpython/ver_<XY>.c (and ver_<XY>_*.c) are the
#                         version layer for CPython 3.<Y>, picked by $(PYTHON)'s version for both
#                         its free-threaded and default builds; ver_<XY>.c's existence is the port
#                         (scripts/hooks-port)
#   analyzer/*.c          the nogilrace command; analyzer/main.c holds main()
#   tests/unit/test_*.c   one Criterion binary each; test_preload_*.c link the preload core,
#                         the others the analyzer

CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif
BUILD ?= build
WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
LDFLAGS ?=
# SANITIZE=address,undefined (any -fsanitize= list): instrumented objects and links, every error
# fatal (as halt_on_error), frames kept for the reports.  Use its own BUILD directory.
SANITIZE ?=
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
ALL_CFLAGS = $(CFLAGS) $(SAN_FLAGS)
ALL_LDFLAGS = $(CFLAGS) $(SAN_FLAGS) $(LDFLAGS)
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -Icommon -Ipreload -Ianalyzer
PIC_CFLAGS := -fPIC -fvisibility=hidden

# The interpreter the hooks are built for.  Resolved lazily: only targets that need it run
# scripts/ft-python (which builds and caches a free-threaded CPython on first use).
PYTHON ?= $(shell scripts/ft-python)
# "TAG XY X.Y FT INCLUDE" of $(PYTHON) (scripts/hooks-port), or the one line saying why nogilrace
# has no hooks for it (no preload/cpython/ver_XY.c: a library built without one cannot load).
PY_PORT = $(shell scripts/hooks-port '$(PYTHON)' 2>&1)

COMMON_SRC := $(wildcard common/*.c)
PRELOAD_HOOK_SRC := $(wildcard preload/hook_*.c)
PRELOAD_CORE_SRC := $(filter-out $(PRELOAD_HOOK_SRC),$(wildcard preload/*.c))
ANALYZER_SRC := $(wildcard analyzer/*.c)
ANALYZER_LIB_SRC := $(filter-out analyzer/main.c,$(ANALYZER_SRC))
UNIT_SRC := $(wildcard tests/unit/test_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/$(1)/%.o,$(2))
COMMON_PIC_OBJ := $(call obj,pic,$(COMMON_SRC))
COMMON_OBJ := $(call obj,exe,$(COMMON_SRC))
PRELOAD_CORE_OBJ := $(call obj,pic,$(PRELOAD_CORE_SRC))
PRELOAD_HOOK_OBJ := $(call obj,pic,$(PRELOAD_HOOK_SRC))
ANALYZER_LIB_OBJ := $(call obj,exe,$(ANALYZER_LIB_SRC))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

PRELOAD_LIBS := -ldl -lpthread
ANALYZER_LIBS := -lm

.PHONY: all deps preload hooks analyzer unit-tests check demo bench fuzz clean
all: hooks preload analyzer

# The Debian packages the build needs (scripts/install-deps GROUP): installed when root, else named.
# DEPS=core is building only (what pip install does); DEPS= checks nothing.
DEPS ?= build
deps:
	@$(if $(strip $(DEPS)),scripts/install-deps $(DEPS),true)

preload: $(BUILD)/libnogilrace.so
analyzer: $(BUILD)/nogilrace
unit-tests: $(UNIT_BIN)

# ---- object files -------------------------------------------------------------------------
$(BUILD)/obj/pic/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(PIC_CFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/exe/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# ---- libnogilrace.so: no link-time dependency on libpython ----------------------------------
$(BUILD)/libnogilrace.so: $(PRELOAD_CORE_OBJ) $(PRELOAD_HOOK_OBJ) $(COMMON_PIC_OBJ)
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-z,defs -o $@ $^ $(PRELOAD_LIBS)

$(BUILD)/libngr-preload-core.a: $(PRELOAD_CORE_OBJ) $(COMMON_PIC_OBJ)
	@rm -f $@
	ar rcs $@ $^

# ---- the hooks library for one interpreter ---------------------------------------------------
# Recursive make so that the Python-derived variables are computed once, and only when needed.
# The port is checked when the recipe is expanded, before anything is compiled: an interpreter
# without one stops make with that single line.
hooks:
	@$(eval port := $(PY_PORT))$(if $(filter cp%,$(firstword $(port))),,$(error $(port)))
	@$(MAKE) --no-print-directory hooks-for PY_TAG_V='$(word 1,$(port))' PY_VER_V='$(word 2,$(port))' \
		PY_INCLUDE_V='$(word 5,$(port))'

HOOKS_COMMON_SRC := $(filter-out preload/cpython/ver_%.c,$(wildcard preload/cpython/*.c))
HOOKS_SRC = $(HOOKS_COMMON_SRC) preload/cpython/ver_$(PY_VER_V).c $(wildcard preload/cpython/ver_$(PY_VER_V)_*.c)
HOOKS_OBJ = $(patsubst %.c,$(BUILD)/obj/hooks-$(PY_TAG_V)/%.o,$(HOOKS_SRC))

.PHONY: hooks-for
hooks-for: $(BUILD)/nogilrace-$(PY_TAG_V).so

$(BUILD)/obj/hooks-$(PY_TAG_V)/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(PIC_CFLAGS) $(ALL_CFLAGS) -I$(PY_INCLUDE_V) -I$(PY_INCLUDE_V)/internal \
		-MMD -MP -c $< -o $@

# Py* symbols stay undefined: they resolve against the interpreter that dlopen()s us.
$(BUILD)/nogilrace-$(PY_TAG_V).so: $(HOOKS_OBJ)
	$(CC) $(ALL_LDFLAGS) -shared -o $@ $^ -lpthread

# ---- the analyzer -----------------------------------------------------------------------------
$(BUILD)/libngr-analyzer.a: $(ANALYZER_LIB_OBJ) $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/nogilrace: $(BUILD)/obj/exe/analyzer/main.o $(BUILD)/libngr-analyzer.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ANALYZER_LIBS)

# ---- unit tests (Criterion) -------------------------------------------------------------------
$(BUILD)/tests/test_preload_%: tests/unit/test_preload_%.c $(BUILD)/libngr-preload-core.a | deps
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ -lcriterion $(PRELOAD_LIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libngr-analyzer.a | deps
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ -lcriterion $(ANALYZER_LIBS)

# ---- top-level jobs ---------------------------------------------------------------------------
check: all unit-tests
	@BUILD=$(BUILD) scripts/check

demo: all
	@scripts/demo

bench: all
	@PYTHON='$(PYTHON)' scripts/bench

fuzz:
	@scripts/fuzz $${FUZZ_SECONDS:-600}

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
