# The README's commands; scripts/ hold the real logic so CI and people run the same thing.
.PHONY: run test check e2e fuzz bench build

build:
	go build -o bin/thaw ./cmd/thaw

run:
	go run ./cmd/thaw serve

test check:
	scripts/test

e2e:
	go test -count=1 -v ./e2etest/

fuzz:
	go test -run='^$$' -fuzz=FuzzDecode -fuzztime=60s ./internal/segment/
	go test -run='^$$' -fuzz=FuzzParse -fuzztime=60s ./internal/ingest/udp/

bench:
	go run ./cmd/thaw bench ingest
