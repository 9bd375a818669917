// Package e2etest starts the built thaw binary on loopback ports and drives it with the real
// clients its users run: the Python, Node and Go X-Ray SDKs, the AWS CLI and aws-sdk-go-v2.
//
// Run it with
//
//	scripts/install-test-deps   # once, as root: Debian and npm packages the tests drive
//	go test ./e2etest/
//
// TestMain builds cmd/thaw once; THAW_E2E_BIN runs the tests against another binary instead,
// and THAW_E2E_SERVE_ARGS adds flags to every `thaw serve`. When a client program is missing,
// a test fails with a message saying what to install if CI=true, and skips otherwise.
//
// This package holds only tests and must import nothing from thaw: it sees thaw the way a
// user does, as a process with a UDP socket, an HTTP API and a data directory.
package e2etest
