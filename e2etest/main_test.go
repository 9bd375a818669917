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
		bin := filepath.Join(dir, "thaw")
		if buildErr = goBuild(moduleRoot(), "github.com/thawtrace/thaw/cmd/thaw", bin); buildErr == nil {
			thawBin = bin
		}
	}
	return m.Run()
}

// goBuild builds the package pkg, as named from the module in srcDir, to
// out.
func goBuild(srcDir, pkg, out string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = srcDir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s in %s: %w\n%s", pkg, srcDir, err, strings.TrimSpace(string(b)))
	}
	return nil
}

// mustGoBuild builds the main package in srcDir to out, failing tb if it
// does not build.
func mustGoBuild(tb testing.TB, srcDir, out string) {
	tb.Helper()
	if err := goBuild(srcDir, ".", out); err != nil {
		tb.Fatal(err)
	}
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
