package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a PostgreSQL server of one test's own: its own data folder,
// port and socket folder, so that the test can stop and start it (an
// outage) without touching the machine's shared server on 5432. Create it
// with NewCluster; it is stopped and removed when the test ends.
type Cluster struct {
	dir  string // the temp folder: data/, log, the socket
	bin  string // the folder holding initdb and pg_ctl
	port int
	// asPostgres runs the server's programs as the postgres user (the
	// test runs as root, and initdb refuses root).
	asPostgres bool

	mu      sync.Mutex
	running bool
}

// clusterStartTimeout bounds one pg_ctl start or stop.
const clusterStartTimeout = 60 * time.Second

// NewCluster creates a cluster in a new temp folder (initdb, trust
// authentication, user postgres), starts it on a free loopback port and
// creates the database evo. Any failure fails the test: it never skips.
func NewCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := postgresBin()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	c := &Cluster{bin: bin, asPostgres: os.Geteuid() == 0}
	// Not tb.TempDir: its parents are private to root, and the server runs
	// as postgres. A short path also keeps the socket's under the limit.
	dir, err := os.MkdirTemp("", "evo-pg-")
	if err != nil {
		tb.Fatalf("pgtest: temp folder: %v", err)
	}
	c.dir = dir
	tb.Cleanup(func() {
		c.mu.Lock()
		running := c.running
		c.mu.Unlock()
		if running {
			if out, err := c.pgCtl("-m", "immediate", "stop"); err != nil {
				tb.Errorf("pgtest: stop cluster in %s: %v\n%s", c.dir, err, out)
			}
		}
		if err := os.RemoveAll(c.dir); err != nil {
			tb.Errorf("pgtest: remove cluster folder: %v", err)
		}
	})
	if c.asPostgres {
		if err := chownPostgres(dir); err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
	}
	if out, err := c.exec(filepath.Join(bin, "initdb"), "-D", c.dataDir(), "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		tb.Fatalf("pgtest: initdb in %s: %v\n%s", dir, err, out)
	}

	// A port found free may be taken before the server binds it: try a few.
	var startErr error
	for range 3 {
		if c.port, err = freePort(); err != nil {
			tb.Fatalf("pgtest: free port: %v", err)
		}
		if startErr = c.start(); startErr == nil {
			break
		}
	}
	if startErr != nil {
		tb.Fatalf("pgtest: start cluster: %v\n%s", startErr, c.logTail())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.url("postgres"))
	if err != nil {
		tb.Fatalf("pgtest: connect to the new cluster: %v\n%s", err, c.logTail())
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE evo"); err != nil {
		tb.Fatalf("pgtest: create database evo: %v", err)
	}
	return c
}

// URL is the connection string of the cluster's database evo.
func (c *Cluster) URL() string { return c.url("evo") }

// Port is the cluster's TCP port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// Dir is the cluster's temp folder (data/, log and the socket).
func (c *Cluster) Dir() string { return c.dir }

func (c *Cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// Stop stops the server ("fast": open connections are cut) and waits
// until it is down. Stopping a stopped cluster does nothing.
func (c *Cluster) Stop(tb testing.TB) {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return
	}
	if out, err := c.pgCtl("-m", "fast", "stop"); err != nil {
		tb.Fatalf("pgtest: stop cluster: %v\n%s\n%s", err, out, c.logTail())
	}
	c.running = false
}

// Start starts the server again on the same port and waits until it
// accepts connections. Starting a running cluster does nothing.
func (c *Cluster) Start(tb testing.TB) {
	tb.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return
	}
	if err := c.startLocked(); err != nil {
		tb.Fatalf("pgtest: start cluster: %v\n%s", err, c.logTail())
	}
}

func (c *Cluster) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.startLocked()
}

// startLocked runs pg_ctl start; c.mu must be held.
func (c *Cluster) startLocked() error {
	// The socket goes in the temp folder, never /var/run/postgresql;
	// fsync is off (an outage here is a stopped server, not a lost disk).
	opts := strings.Join([]string{
		"-p", strconv.Itoa(c.port), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB", "-c", "max_connections=50",
	}, " ")
	if out, err := c.pgCtl("-l", filepath.Join(c.dir, "log"), "-o", opts, "start"); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	c.running = true
	return nil
}

// pgCtl runs pg_ctl on the cluster's data folder, waiting for the change.
func (c *Cluster) pgCtl(args ...string) ([]byte, error) {
	all := append([]string{"-D", c.dataDir(), "-w", "-t", strconv.Itoa(int(clusterStartTimeout.Seconds()))}, args...)
	return c.exec(filepath.Join(c.bin, "pg_ctl"), all...)
}

// exec runs a server program, as postgres when the test is root.
func (c *Cluster) exec(name string, args ...string) ([]byte, error) {
	if c.asPostgres {
		args = append([]string{"-u", "postgres", "--", name}, args...)
		name = "runuser"
	}
	ctx, cancel := context.WithTimeout(context.Background(), clusterStartTimeout+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = c.dir // readable by postgres, unlike the test's folder may be
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl start leaves the server holding the pipes: do not wait for
	// them to close once pg_ctl itself has exited.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	return out.Bytes(), err
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// logTail is the end of the server's log, for failure messages.
func (c *Cluster) logTail() string {
	b, err := os.ReadFile(filepath.Join(c.dir, "log"))
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "server log:\n" + string(b)
}

// postgresBin finds the newest /usr/lib/postgresql/*/bin with initdb and
// pg_ctl, else the folder of an initdb on PATH.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no PostgreSQL server programs (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH")
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// chownPostgres gives dir to the postgres user.
func chownPostgres(dir string) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs a postgres user for initdb: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("chown %s to postgres: %w", dir, err)
	}
	return nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
