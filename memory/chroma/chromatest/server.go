// Package chromatest runs a real ChromaDB server in tests, so that
// EVO-TR's long-term memory is tested against the real thing, offline, in
// well under a second per server.
//
// The server is Chroma 1.4.1 from the npm packages chromadb@3.4.0 and
// chromadb-js-bindings-linux-x64-gnu@1.3.1, which .ci/chroma.sh installs
// into .cache/chroma (about 50 MB, seconds, once; `make test` runs it
// first). Each Server runs under Node on a free loopback port with its own
// data folder in a temporary directory, and is stopped when the test ends.
// Tests that need it fail, never skip, when it cannot run.
package chromatest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain/braintest"
)

// Version is the Chroma server release the tests run.
const Version = "1.4.1"

// Launcher returns the path of the Node script that runs the Chroma server
// CLI, installing the server with .ci/chroma.sh when it is not installed
// yet. It fails the test when the server cannot be installed.
func Launcher(tb testing.TB) string {
	tb.Helper()
	return braintest.CIPath(tb, "chroma.sh", "Chroma launcher script")
}

// Server is a running real Chroma server.
type Server struct {
	// Dir holds the server's data folder and logs.
	Dir string

	node, launcher string
	data           string
	port           int

	mu   sync.Mutex
	proc *process // nil once stopped
	runs int
}

// process is one run of the server.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// Start starts a real Chroma server on a free loopback port with an empty
// data folder and stops it when the test ends. On failure the server's log
// is printed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	launcher := Launcher(tb)
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("the Chroma server runs under Node.js, which is not on PATH: %v", err)
	}
	dir := tb.TempDir()
	s := &Server{Dir: dir, node: node, launcher: launcher, data: filepath.Join(dir, "data")}
	var lastErr error
	for range 3 { // a port taken between choosing and binding: try another
		port, err := braintest.FreePort()
		if err != nil {
			tb.Fatalf("choose a port: %v", err)
		}
		s.port = port
		if lastErr = s.start(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		tb.Fatalf("start chroma: %v", lastErr)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("chroma server log:\n%s", braintest.Tail(s.Log(), 6000))
		}
		s.Stop()
	})
	return s
}

// URL is the server's base address, http://127.0.0.1:PORT.
func (s *Server) URL() string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Restart stops the server and starts it again on the same port with the
// same data, failing the test when it cannot.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	var err error
	for range 20 { // the port may be briefly unavailable after the stop
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Fatalf("restart chroma: %v", err)
}

// start runs the server on s.port and waits until it answers.
func (s *Server) start() error {
	if err := os.MkdirAll(s.data, 0o755); err != nil {
		return err
	}
	s.mu.Lock()
	s.runs++
	logPath := filepath.Join(s.Dir, fmt.Sprintf("chroma-%d-%d.log", s.port, s.runs))
	s.mu.Unlock()
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(s.node, s.launcher, "run", "--path", s.data, "--host", "127.0.0.1", "--port", strconv.Itoa(s.port))
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: nothing it starts outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s %s: %w", s.node, s.launcher, err)
	}
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	if err := s.waitReady(p, 30*time.Second); err != nil {
		s.Stop()
		b, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w\n%s", err, braintest.Tail(string(b), 2000))
	}
	return nil
}

// waitReady polls GET /api/v2/heartbeat until the server answers.
func (s *Server) waitReady(p *process, limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("chroma exited before it was ready: %v", p.err)
		default:
		}
		if err := Heartbeat(context.Background(), client, s.URL()); err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("chroma not ready after %s", limit)
}

// Heartbeat asks the Chroma server at base (http://host:port) whether it
// is up.
func Heartbeat(ctx context.Context, client *http.Client, base string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/heartbeat", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("heartbeat")) {
		return fmt.Errorf("heartbeat: %s %q", resp.Status, body)
	}
	return nil
}

// Stop ends the server: SIGINT, then SIGKILL to its process group after
// 2 s (SIGTERM can make it spin; its data survives a SIGKILL). Stopping
// twice is harmless.
func (s *Server) Stop() {
	p := s.take()
	if p == nil {
		return
	}
	pid := p.cmd.Process.Pid
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
	}
	// Anything left in the group goes with it.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

// Kill ends the server with SIGKILL at once, as a crash would.
func (s *Server) Kill() {
	p := s.take()
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// take returns the running process, if any, and forgets it: whoever takes
// it ends it.
func (s *Server) take() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.proc
	s.proc = nil
	return p
}

// Log returns what the server wrote in all its runs so far.
func (s *Server) Log() string {
	paths, _ := filepath.Glob(filepath.Join(s.Dir, "chroma-*.log"))
	var b strings.Builder
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		fmt.Fprintf(&b, "== %s\n", filepath.Base(p))
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if !strings.Contains(line, "\x1b[") { // the coloured logo
				b.WriteString(line)
			}
		}
	}
	return b.String()
}
