package e2etest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// installHint tells what provides every tool these tests need.
const installHint = "run scripts/install-test-deps as root (Debian packages python3-aws-xray-sdk python3-boto3 python3-requests awscli chromium; npm packages in e2etest/node)"

// Fixed paths: TESTING.md explains why the first python3 or aws on PATH may be the wrong one.
const (
	pythonPath = "/usr/bin/python3"
	awsPath    = "/usr/bin/aws"
)

// missingTool fails the test in CI, where every tool must be installed, and skips it elsewhere.
func missingTool(t *testing.T, what string) {
	t.Helper()
	msg := what + ": " + installHint
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// probe runs a command once per test binary and remembers whether it succeeded.
type probe struct {
	once sync.Once
	err  error
	out  string
}

func (p *probe) run(name string, args ...string) (string, error) {
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		b, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
		p.out, p.err = strings.TrimSpace(string(b)), err
	})
	return p.out, p.err
}

var pythonProbe, awsProbe probe

// requirePython makes sure /usr/bin/python3 sees the Debian aws_xray_sdk, boto3 and requests.
func requirePython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(pythonPath); err != nil {
		missingTool(t, pythonPath+" not found")
	}
	out, err := pythonProbe.run(pythonPath, "-c", "import aws_xray_sdk, boto3, requests")
	if err != nil {
		missingTool(t, "python modules aws_xray_sdk, boto3, requests not importable by "+pythonPath+": "+out)
	}
}

// requireAWSCLI makes sure /usr/bin/aws is AWS CLI v2.
func requireAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(awsPath); err != nil {
		missingTool(t, awsPath+" (AWS CLI v2) not found")
	}
	out, err := awsProbe.run(awsPath, "--version")
	if err != nil || !strings.HasPrefix(out, "aws-cli/2.") {
		missingTool(t, awsPath+" is not AWS CLI v2 (got "+out+")")
	}
}

// nodeModules is where scripts/install-test-deps installs the npm packages.
func nodeModules() string {
	return filepath.Join(moduleRoot(), "e2etest", "node", "node_modules")
}

// requireNode makes sure node is on PATH and the npm packages are installed.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missingTool(t, "node (Node.js >= 20) not on PATH")
	}
	for _, pkg := range []string{"aws-xray-sdk-core", "dynalite"} {
		if _, err := os.Stat(filepath.Join(nodeModules(), pkg, "package.json")); err != nil {
			missingTool(t, "npm package "+pkg+" not installed in e2etest/node")
		}
	}
	return node
}
