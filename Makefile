# Cloister build, test and demo.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc/cloister
GO ?= go
BIN := bin

.PHONY: all build test test-unit test-e2e test-faults demo bench install lint clean

all: build

# deliver is linked statically: no dynamic loader at each of its (many) starts.
build:
	$(GO) build -o $(BIN)/cloister ./cmd/cloister
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN)/deliver ./cmd/deliver

# Installs the real peers the tests use (Postfix, GnuPG, gpgsm, OpenSSL, NSS), then
# runs every test, the Postfix end-to-end suite included.
test: lint
	bash test/setup.sh
	$(GO) test -count=1 -timeout 30m ./...
	$(MAKE) test-faults

# The quick run, without root: -short skips (saying why: testdirs.Slow) the
# end-to-end suites, the browser and tmpfs tests, the SIGKILL fault tests,
# the crypto invariant matrix, the tests that run a peer (gpg, openssl, NSS,
# rnp, sq, node) per case or drive the runners over signed or encrypted mail,
# and the api daemon tests, all of which make test runs. The end-to-end
# packages (test/e2e) skip every test under -short, so their binaries are not
# built here. The slowest packages come first (go test starts packages in
# the order given, -p at a time): the longest one, started last, would run
# alone on one core at the end. A package missing from UNIT_FIRST only runs
# in its usual place. Unless TMPDIR is set, the tests' temporary files (and
# go test's build directory) go to /dev/shm when it is a tmpfs with 2 GiB
# free: the stores fsync every write, and on a shared disk those waits were
# most of some packages' time. It prints its wall time, the load it ran
# under and its TMPDIR.
UNIT_FIRST := runners keyring mimecrypt/smime mimecrypt/pgp internal/testca web commands cmd/cloister
test-unit:
	@start=$$(date +%s); tmp=$${TMPDIR:-}; \
	if [ -z "$$tmp" ] && [ "$$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && \
		[ "$$(df -Pk /dev/shm | awk 'NR == 2 { print $$4 }')" -ge 2097152 ]; then tmp=/dev/shm; fi; \
	TMPDIR=$${tmp:-/tmp} $(GO) test -count=1 -short -timeout 30m $$($(GO) list ./... | awk -v first='$(UNIT_FIRST)' \
		'BEGIN { n = split(first, f, " "); for (i = 1; i <= n; i++) at["cloister/" f[i]] = i } \
		/^cloister\/test\/e2e\// { next } ($$0 in at) { got[at[$$0]] = $$0; next } { rest = rest " " $$0 } \
		END { for (i = 1; i <= n; i++) if (i in got) printf "%s ", got[i]; print rest }'); rc=$$?; \
		echo "test-unit: $$(( $$(date +%s) - start )) s wall, loadavg $$(cat /proc/loadavg), TMPDIR $${tmp:-/tmp}"; exit $$rc

test-e2e: build
	bash test/setup.sh
	$(GO) test -count=1 -v ./test/e2e/...

# Exactly-once under random SIGKILLs of the runner processes (bench/faults.sh,
# shortened, with kills every 0.05-0.5 s): 100 posts to 10 subscribers and 100
# to 50 encrypted ones; fails on any loss, any duplicate beyond the SMTP
# transactions in flight at the kills, or a run without a kill.
test-faults:
	POSTS=100 MEMBERS=10 ENC_MEMBERS=50 KILL_MIN=50ms KILL_MAX=500ms bash bench/faults.sh

# A throw-away site: a list with three members, a post piped through deliver,
# every runner, and what each member received.
demo:
	$(GO) run ./cmd/demo

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./queue ./runners
	bash bench/deliver.sh

# Binaries, systemd units, sysusers/tmpfiles snippets, MTA samples, runit
# and container recipes, the guides the units' Documentation= names, and a
# man page per command (TestMakeInstall checks the result).
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/cloister $(DESTDIR)$(SYSCONFDIR) \
		$(DESTDIR)$(SYSCONFDIR)/postfix $(DESTDIR)$(SYSCONFDIR)/exim \
		$(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/sysusers.d $(DESTDIR)$(PREFIX)/lib/tmpfiles.d \
		$(DESTDIR)$(PREFIX)/share/doc/cloister $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/cloister/runit/cloister/log $(DESTDIR)$(PREFIX)/share/cloister/runit/cloister-socketmap
	install -m 0755 $(BIN)/cloister $(DESTDIR)$(PREFIX)/bin/cloister
	install -m 0755 $(BIN)/deliver $(DESTDIR)$(PREFIX)/lib/cloister/deliver
	install -m 0644 etc/cloister.toml $(DESTDIR)$(SYSCONFDIR)/cloister.toml.sample
	install -m 0644 etc/systemd/*.service etc/systemd/*.target etc/systemd/*.timer $(DESTDIR)$(PREFIX)/lib/systemd/system/
	install -m 0644 etc/systemd/cloister.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/cloister.conf
	install -m 0644 etc/systemd/cloister.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/cloister.conf
	install -m 0644 etc/postfix/* $(DESTDIR)$(SYSCONFDIR)/postfix/
	install -m 0644 etc/exim/* $(DESTDIR)$(SYSCONFDIR)/exim/
	install -m 0755 etc/runit/cloister/run $(DESTDIR)$(PREFIX)/share/cloister/runit/cloister/run
	install -m 0755 etc/runit/cloister/log/run $(DESTDIR)$(PREFIX)/share/cloister/runit/cloister/log/run
	install -m 0755 etc/runit/cloister-socketmap/run $(DESTDIR)$(PREFIX)/share/cloister/runit/cloister-socketmap/run
	install -m 0755 etc/container/entrypoint.sh $(DESTDIR)$(PREFIX)/lib/cloister/entrypoint.sh
	install -m 0644 README.md LICENSE docs/*.md $(DESTDIR)$(PREFIX)/share/doc/cloister/
	$(BIN)/cloister docs man $(DESTDIR)$(PREFIX)/share/man/man1

# gofmt, go vet, staticcheck, the dead-code check (every function reachable
# from a main package or a test) and a tidy go.mod. staticcheck and deadcode
# are pinned by the tool directives in go.mod: `go tool` builds them from the
# module cache, so a fresh machine needs nothing installed beforehand.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@out=$$($(GO) tool deadcode -test ./...) || exit 1; if [ -n "$$out" ]; then echo "unreachable code:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff

clean:
	rm -rf $(BIN)
