# The two commands the README promises. Both set the machine up first (idempotent).
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup build check clean

setup:
	scripts/setup

run: setup
	$(BIN)/cell35 serve --content content --out site --host 127.0.0.1 --port 8000

test: setup
	scripts/test

build: setup
	$(BIN)/cell35 build --content content --out site

check: setup
	$(BIN)/cell35 check content

clean:
	rm -rf site site.build-report.json .site.d .site.lock .cache .build
