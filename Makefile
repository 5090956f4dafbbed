# panic: build, test, install, demo and bench (GNU make).
#
#   make            build every program into build/bin
#   make check      install missing Debian packages, then run the bats suite
#                   on the normal build and again under ASan + UBSan
#   make demo       install missing packages, build, run an offline pipeline
#   make bench      benchmarks, as ratios to baselines measured in the same run
#   make fuzz       the fuzzing harnesses under AFL++ (FUZZ_SECONDS each)
#   make install    PREFIX=/usr/local DESTDIR=
#   make deps       install the Debian packages the build and tests need

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/panic
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR ?= $(PREFIX)/lib/systemd/user
VERSION = 0.1.0

B ?= build
CC ?= cc
PKGS = libcurl sqlite3 libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# SQLite is linked statically where Debian ships libsqlite3.a: loading the
# shared library is most of a short program's start-up.
SQLITE_A := $(wildcard $(shell pkg-config --variable=libdir sqlite3 2>/dev/null)/libsqlite3.a)
SQLITE_LIBS := $(if $(SQLITE_A),$(SQLITE_A) -lm -ldl,-lsqlite3)
# libcurl is loaded at run time, on the first HTTP request (lib/http.c):
# only its headers are needed to build.
PKG_LIBS := $(SQLITE_LIBS) -ldl
# Debian 12's libjq-dev has no .pc file.
JQ_LIBS := $(shell pkg-config --libs libjq 2>/dev/null || echo -ljq)

CFLAGS ?= -O2 -g
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-sign-compare -Wshadow -Werror=implicit-function-declaration \
          -Ilib -DPANIC_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(SANFLAGS)
# Packed relative relocations (DT_RELR) halve the loader's work for the
# static SQLite, where the toolchain has them (binutils 2.38, glibc 2.36).
RELR := $(shell echo 'int main(void){return 0;}' | $(CC) -x c - -o /dev/null \
	-Wl,-z,pack-relative-relocs 2>/dev/null && echo -Wl,-z,pack-relative-relocs)
# libmicrohttpd: panic-web's server (lib/web); --as-needed keeps it out of
# the other programs.
MHD_LIBS := $(shell pkg-config --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
LDLIBS = -Wl,--as-needed $(RELR) $(JQ_LIBS) $(PKG_LIBS) $(MHD_LIBS) -pthread $(SANFLAGS)

# Every program is bin/NAME.c; the library is every .c under lib/, one
# folder per layer (lib/README.md). Nothing to list by hand.
PROGS = $(basename $(notdir $(wildcard bin/*.c)))
LIBSRC = $(wildcard lib/*/*.c lib/*/*/*.c)
LIBOBJ = $(LIBSRC:lib/%.c=$(B)/obj/%.o) $(B)/obj/catalogue_data.o $(B)/obj/web_data.o
BINS = $(PROGS:%=$(B)/bin/%)
# Fuzzing harnesses (tests/fuzz): built with every build, to run the corpus
# in the test suite; built with AFL++ by make fuzz.
FUZZERS = $(basename $(notdir $(filter-out tests/fuzz/driver.c,$(wildcard tests/fuzz/*.c))))
FUZZBINS = $(FUZZERS:%=$(B)/fuzz/%)

# Table tests of pure library parts: tests/unit/NAME.c, built beside the
# programs (build/unit/NAME) and run by their suites.
UNITS = $(basename $(notdir $(wildcard tests/unit/*.c)))
all: $(BINS) $(FUZZBINS) $(UNITS:%=$(B)/unit/%) $(B)/share/panic/abilities

# the installed abilities, found beside the programs in the build tree too
$(B)/share/panic/abilities:
	@mkdir -p $(@D)
	ln -sfn $(CURDIR)/share/panic/abilities $@

$(B)/unit/%: tests/unit/%.c $(B)/libpanic.a $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(B)/libpanic.a $(LDLIBS)

# Rebuild everything when the compiler or its flags change.
$(B)/flags: FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(CFLAGS) $(LDLIBS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) $(LDLIBS)' > $@

# Header dependencies come from the compiler (-MMD), one .d per object.
$(B)/obj/%.o: lib/%.c $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/obj/catalogue_data.c: share/panic/models.json
	@mkdir -p $(@D)
	{ echo '/* generated from share/panic/models.json */'; \
	  echo 'const char catalogue_builtin[] ='; \
	  sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $<; echo ';'; } > $@

$(B)/obj/catalogue_data.o: $(B)/obj/catalogue_data.c $(B)/flags
	$(CC) $(CFLAGS) -c -o $@ $<

# panic-web's pages, scripts and styles, built in (tools/embed).
WEBFILES = $(shell find share/panic/web -type f ! -name '.*')
$(B)/obj/web_data.c: $(WEBFILES) tools/embed
	@mkdir -p $(@D)
	tools/embed share/panic/web > $@

$(B)/obj/web_data.o: $(B)/obj/web_data.c $(B)/flags
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libpanic.a: $(LIBOBJ)
	rm -f $@
	ar qcs $@ $^

$(B)/bin/%: bin/%.c $(B)/libpanic.a $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -MF $(B)/obj/bin-$*.d -o $@ $< $(B)/libpanic.a $(LDLIBS)

$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/driver.c $(B)/libpanic.a $(B)/flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tests/fuzz/driver.c $< $(B)/libpanic.a $(LDLIBS)

-include $(wildcard $(B)/obj/*.d $(B)/obj/*/*.d $(B)/obj/*/*/*.d)

# Sanitizer build: the same sources, in build/san.
san:
	$(MAKE) B=build/san SANFLAGS='-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined,float-cast-overflow' CFLAGS='-O1 -g' all

deps:
	@tools/deps

check: deps
	$(MAKE) all san
	tools/check build/bin build/san/bin

# Fuzzing: each harness under AFL++ for FUZZ_SECONDS, sanitizers on; new
# crashes are kept in tests/fuzz/crashes (see tests/fuzz/README.md).
FUZZ_SECONDS ?= 300
fuzz: deps
	@tools/deps afl++ clang
	$(MAKE) B=build/afl CC=afl-clang-fast CFLAGS='-O1 -g' \
	  SANFLAGS='-fsanitize=address,undefined -fno-sanitize-recover=undefined' \
	  $(FUZZERS:%=build/afl/fuzz/%)
	tools/fuzz build/afl $(FUZZ_SECONDS) $(FUZZ_ONLY)

demo: deps all
	tools/demo build/bin

bench: deps all
	@tools/deps hyperfine mosquitto nats-server libmosquitto-dev libnats-dev \
	  nginx-light libnginx-mod-http-echo wrk curl time
	$(MAKE) $(B)/busbench $(B)/agentlat $(B)/agentab $(B)/sseclients
	tools/bench $(B)/bin

$(B)/busbench: bench/busbench.c $(B)/libpanic.a $(B)/flags
	$(CC) $(CFLAGS) -o $@ $< $(B)/libpanic.a -lmosquitto -lnats $(LDLIBS)

$(B)/agentlat: bench/agentlat.c $(B)/libpanic.a $(B)/flags
	$(CC) $(CFLAGS) -o $@ $< $(B)/libpanic.a $(LDLIBS)

$(B)/sseclients: bench/sseclients.c
	$(CC) $(CFLAGS) -pthread -o $@ $<

$(B)/agentab: bench/agentab.c
	$(CC) $(CFLAGS) -static -o $@ $<

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 \
	  $(DESTDIR)$(DATADIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 docs/*.1 $(DESTDIR)$(MANDIR)/man1
	install -m 644 docs/*.7 $(DESTDIR)$(MANDIR)/man7
	install -m 644 share/panic/models.json $(DESTDIR)$(DATADIR)
	install -d $(DESTDIR)$(DATADIR)/web
	install -m 644 share/panic/web/* $(DESTDIR)$(DATADIR)/web
	sed 's|/usr/local/bin|$(BINDIR)|; s|/usr/local/share/panic|$(DATADIR)|' share/systemd/panic-web.service > $(DESTDIR)$(UNITDIR)/panic-web.service
	install -d $(DESTDIR)$(DATADIR)/workflows
	install -m 755 share/panic/workflows/* $(DESTDIR)$(DATADIR)/workflows
	sed 's|/usr/local/bin|$(BINDIR)|' share/systemd/panic-loop@.service > $(DESTDIR)$(UNITDIR)/panic-loop@.service
	for u in agent-run.service agent-run@.service; do \
	  sed 's|/usr/local/bin|$(BINDIR)|' share/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u; done
	install -d $(DESTDIR)$(DATADIR)/abilities
	install -m 755 share/panic/abilities/* $(DESTDIR)$(DATADIR)/abilities
	sed 's|/usr/local/bin|$(BINDIR)|' share/systemd/vesta-send@.service > $(DESTDIR)$(UNITDIR)/vesta-send@.service
	for p in $(PROGS); do install -m 644 completions/$$p.bash $(DESTDIR)$(BASHCOMPDIR)/$$p; done

clean:
	rm -rf build

.PHONY: all san deps check demo bench fuzz install clean FORCE
.SECONDARY:
