package braintest

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CIPath runs the repository's .ci/<script> (a script that installs or
// builds a real server for the tests, cached, and prints the path of what
// it made) and returns that path. what names the product for messages. It
// fails the test when the script fails or prints no file: the tests that
// need a real server never skip.
func CIPath(tb testing.TB, script, what string) string {
	tb.Helper()
	root, err := repoRoot(script)
	if err != nil {
		tb.Fatalf("find the repository root: %v", err)
	}
	path := filepath.Join(root, ".ci", script)
	cmd := exec.Command("bash", path)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("make the %s (%s): %v\n%s", what, path, err, Tail(stderr.String(), 4000))
	}
	out := strings.TrimSpace(stdout.String())
	if st, err := os.Stat(out); err != nil || st.IsDir() {
		tb.Fatalf("%s printed %q, which is not the %s (%v)", path, out, what, err)
	}
	return out
}

// repoRoot walks up from the working directory (a package's folder under
// go test) to the folder holding .ci/<script>.
func repoRoot(script string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, ".ci", script)); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no .ci/" + script + " above the working directory")
		}
		dir = parent
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Tail returns the last n bytes of s, marked when cut (for server logs in
// failure messages).
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
