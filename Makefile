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

# One target per go test: -fuzz must match exactly one fuzzer.
fuzz:
	go test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=60s -fuzzminimizetime=5s ./internal/segment/
	go test -run='^$$' -fuzz='^FuzzDecodeDifferential$$' -fuzztime=60s -fuzzminimizetime=5s ./internal/segment/
	go test -run='^$$' -fuzz='^FuzzAssemble$$' -fuzztime=60s -fuzzminimizetime=5s ./internal/segment/
	go test -run='^$$' -fuzz='^FuzzScanner$$' -fuzztime=30s ./internal/segment/
	go test -run='^$$' -fuzz='^FuzzParseFloat$$' -fuzztime=30s ./internal/segment/
	go test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=60s ./internal/ingest/udp/
	go test -run='^$$' -fuzz='^FuzzDecodeSummary$$' -fuzztime=30s ./internal/store/embedded/
	go test -run='^$$' -fuzz='^FuzzDecodePutBody$$' -fuzztime=30s ./internal/xrayapi/
	go test -run='^$$' -fuzz='^FuzzRenderWaterfall$$' -fuzztime=30s ./cmd/thaw/

bench:
	go run ./cmd/thaw bench ingest
