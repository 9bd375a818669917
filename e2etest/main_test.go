package e2etest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binDir holds the binaries built for this test run; thawBin is the thaw binary in it, or
// empty with buildErr saying why.
var (
	binDir   string
	thawBin  string
	buildErr error
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "thaw-e2etest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2etest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir

	// THAW_E2E_BIN runs the tests against a binary built elsewhere (a release build, say).
	if bin := os.Getenv("THAW_E2E_BIN"); bin != "" {
		thawBin = bin
	} else {
		thawBin, buildErr = goBuild(dir, "thaw", "github.com/thawtrace/thaw/cmd/thaw")
	}
	return m.Run()
}

// goBuild builds the package pkg of this module into dir/name and returns the binary's path.
func goBuild(dir, name, pkg string) (string, error) {
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = moduleRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// moduleRoot is the directory holding go.mod: the parent of this package's directory, since
// go test runs in the package directory.
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Dir(wd)
}

// requireThaw fails the test when the thaw binary could not be built.
func requireThaw(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("thaw binary not available: %v", buildErr)
	}
}
