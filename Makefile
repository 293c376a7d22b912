# The two commands the README promises. Both set the machine up first (idempotent).
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup build check clean

setup:
	scripts/setup

# The public site's preview on 8000 and the portal on 8001, together; Ctrl-C stops both.
run: setup
	$(BIN)/cell35 portal run --host 127.0.0.1 --port 8001 & portal=$$!; \
	trap 'kill $$portal 2>/dev/null; wait $$portal 2>/dev/null' EXIT INT TERM; \
	$(BIN)/cell35 serve --content content --out site --host 127.0.0.1 --port 8000

test: setup
	scripts/test

build: setup
	$(BIN)/cell35 build --content content --out site

check: setup
	$(BIN)/cell35 check content

clean:
	rm -rf site site.build-report.json .site.d .site.lock .cache .build .portal
