// Package ollamareal runs a real Ollama server in tests and writes the tiny
// models it serves, so that EVO-TR's Ollama code is tested against the
// real thing, offline, in seconds.
//
// The server is Ollama v0.6.5 built from its Go module by .ci/ollama.sh
// into .cache/bin/ollama (about 3 minutes once, cached afterwards; the
// test command builds it first). Each Server runs on a free loopback port
// with its own model store and HOME in a temporary folder, and is stopped
// when the test ends. The models are a two-block llama with random weights
// (TinyModel), a LoRA adapter for it (TinyAdapter) and the adapter fused
// into a full model (TinyFused).
package ollamareal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/evo-tr/evo/brain/braintest"
	"github.com/ollama/ollama/api"
)

// Version is the Ollama release the tests run.
const Version = "0.6.5"

// Binary returns the path of the real Ollama server, building it with
// .ci/ollama.sh when it is not built yet (once; minutes). It fails the
// test when the server cannot be built: the tests that need it never skip.
func Binary(tb testing.TB) string {
	tb.Helper()
	return braintest.CIPath(tb, "ollama.sh", "real Ollama server binary")
}

// Config tunes a Server.
type Config struct {
	// MaxLoaded is OLLAMA_MAX_LOADED_MODELS: how many runners may stay
	// loaded at once (default 3).
	MaxLoaded int
	// NumParallel is OLLAMA_NUM_PARALLEL (default 1).
	NumParallel int
}

// Server is a running real Ollama server.
type Server struct {
	// URL is the server's base address, http://127.0.0.1:PORT.
	URL *url.URL
	// API is a client for it.
	API *api.Client
	// Dir holds the server's model store, HOME and log.
	Dir string

	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// Start starts a real Ollama server on a free loopback port and stops it
// when the test ends. On failure the server's log is printed.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	bin := Binary(tb)
	if cfg.MaxLoaded <= 0 {
		cfg.MaxLoaded = 3
	}
	if cfg.NumParallel <= 0 {
		cfg.NumParallel = 1
	}
	dir := tb.TempDir()
	var lastErr error
	for range 3 { // a port taken between choosing and binding: try another
		s, err := start(bin, dir, cfg)
		if err == nil {
			tb.Cleanup(func() {
				if tb.Failed() {
					tb.Logf("ollama server log (%s):\n%s", s.log, braintest.Tail(s.Log(), 6000))
				}
				if err := s.Stop(); err != nil {
					tb.Errorf("stop ollama: %v", err)
				}
			})
			return s
		}
		lastErr = err
	}
	tb.Fatalf("start ollama: %v", lastErr)
	return nil
}

func start(bin, dir string, cfg Config) (*Server, error) {
	port, err := braintest.FreePort()
	if err != nil {
		return nil, err
	}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	home := filepath.Join(dir, "home")
	models := filepath.Join(dir, "models")
	for _, d := range []string{home, models} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	logPath := filepath.Join(dir, "ollama-"+strconv.Itoa(port)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{
		"HOME=" + home,
		"TMPDIR=" + dir,
		"OLLAMA_HOST=" + host,
		"OLLAMA_MODELS=" + models,
		"OLLAMA_NUM_PARALLEL=" + strconv.Itoa(cfg.NumParallel),
		"OLLAMA_MAX_LOADED_MODELS=" + strconv.Itoa(cfg.MaxLoaded),
		"OLLAMA_NOPRUNE=1",
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group: the runners it starts are stopped with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}
	u := &url.URL{Scheme: "http", Host: host}
	s := &Server{URL: u, API: api.NewClient(u, &http.Client{}), Dir: dir, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(30 * time.Second); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("%w\n%s", err, braintest.Tail(s.Log(), 2000))
	}
	return s, nil
}

// waitReady polls HEAD / until the server answers.
func (s *Server) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("ollama exited before it was ready: %v", s.err)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.API.Heartbeat(ctx)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("ollama not ready after %s", limit)
}

// Stop ends the server (SIGTERM, then SIGKILL after 10 s) and the runners
// it started. Stopping twice is harmless.
func (s *Server) Stop() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	pgid := s.cmd.Process.Pid
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.done
	}
	// Runners left behind by a crash share the group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	return nil
}

// Log returns what the server wrote so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// Digest is the blob digest Ollama names a file by: "sha256:<hex>".
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CreateModel creates model name from one GGUF file with parameters, the
// way `ollama pull` would give EVO-TR its base model (upload + create).
func (s *Server) CreateModel(ctx context.Context, name string, file []byte, params map[string]any) error {
	digest := Digest(file)
	if err := s.API.CreateBlob(ctx, digest, bytes.NewReader(file)); err != nil {
		return fmt.Errorf("upload %s: %w", name, err)
	}
	stream := false
	err := s.API.Create(ctx, &api.CreateRequest{
		Model:      name,
		Files:      map[string]string{name + ".gguf": digest},
		Parameters: params,
		Stream:     &stream,
	}, func(api.ProgressResponse) error { return nil })
	if err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return nil
}

// BaseParameters are the parameters the tiny base is created with: short
// answers, and one thread (two threads on a busy 2-core machine make
// generation 20–300 times slower).
func BaseParameters() map[string]any {
	return map[string]any{"num_predict": 48, "num_thread": 1, "temperature": 0.8}
}

// WriteFile writes data into a fresh temporary folder of the test and
// returns its path.
func WriteFile(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatalf("write %s: %v", p, err)
	}
	return p
}
