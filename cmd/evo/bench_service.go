package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchService is `evo serve` run by evo bench as a child process, so that
// its memory and CPU are its own, not the load generator's.
type benchService struct {
	cmd  *exec.Cmd
	logs *tailBuffer
	done chan struct{}
	err  error // of Wait, once done is closed
}

// serviceUsage is what the service used over its run.
type serviceUsage struct {
	peakRSSMB float64
	cpu       time.Duration
}

// startBenchService starts bin serve with the configuration lookup gives
// (the environment and the .env file, as this process sees them) and the
// bench's overrides.
func startBenchService(bin string, lookup func(string) (string, bool), overrides map[string]string, cpuProfile string) (*benchService, error) {
	args := []string{"serve"}
	if cpuProfile != "" {
		args = append(args, "--cpuprofile", cpuProfile)
	}
	s := &benchService{logs: &tailBuffer{max: 32 << 10}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = serviceEnv(os.Environ(), lookup, overrides)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// serviceEnv is base without any configuration key, then every key lookup
// has, then overrides: the child resolves the configuration this process
// would, with the bench's changes.
func serviceEnv(base []string, lookup func(string) (string, bool), overrides map[string]string) []string {
	keys := append(configKeys(), envFileKey)
	var env []string
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(keys, k) {
			env = append(env, kv)
		}
	}
	for _, k := range keys {
		if v, ok := overrides[k]; ok {
			env = append(env, k+"="+v)
		} else if v, ok := lookup(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// configKeys are the environment keys of Config, in order.
func configKeys() []string {
	t := reflect.TypeFor[Config]()
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if k := t.Field(i).Tag.Get("env"); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// cpu is the service's CPU time so far (user + system) from
// /proc/PID/stat; false where there is no /proc (macOS).
func (s *benchService) cpu() (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// utime and stime are fields 14 and 15, in clock ticks (USER_HZ, 100
	// on Linux).
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, true
}

// exited reports whether the service has stopped (and how).
func (s *benchService) exited() (bool, error) {
	select {
	case <-s.done:
		return true, s.err
	default:
		return false, nil
	}
}

// stop asks the service to shut down (SIGTERM, as launchd and systemd do),
// kills it after grace, and returns what it used.
func (s *benchService) stop(ctx context.Context, grace time.Duration) (serviceUsage, error) {
	if done, _ := s.exited(); !done {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(grace):
			_ = s.cmd.Process.Kill()
			<-s.done
			return serviceUsage{}, fmt.Errorf("evo serve did not stop within %s", grace)
		case <-ctx.Done():
			_ = s.cmd.Process.Kill()
			<-s.done
			return serviceUsage{}, ctx.Err()
		}
	}
	ps := s.cmd.ProcessState
	u := serviceUsage{cpu: ps.UserTime() + ps.SystemTime()}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		rss := float64(ru.Maxrss) * 1024 // kilobytes on Linux
		if runtime.GOOS == "darwin" {
			rss = float64(ru.Maxrss) // bytes on macOS
		}
		u.peakRSSMB = round3(rss / (1 << 20))
	}
	var exit *exec.ExitError
	if errors.As(s.err, &exit) {
		return u, fmt.Errorf("evo serve exited %d: %s", exit.ExitCode(), s.logs.String())
	}
	return u, s.err
}

// benchRouterSnapshot has bin train its router once, as its first start
// would, writing the snapshot into dir, and returns the snapshot's path:
// the service then starts as every later restart does, loading it.
func benchRouterSnapshot(ctx context.Context, bin string, lookup func(string) (string, bool), dir string) (string, error) {
	path := filepath.Join(dir, "router.snapshot")
	cmd := exec.CommandContext(ctx, bin, "route", "merhaba")
	cmd.Env = serviceEnv(os.Environ(), lookup, map[string]string{"ROUTER_CACHE": path, "ROUTER_EMBED_MODEL": "", "LOG_LEVEL": "warn"})
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("train the router for its snapshot (%s route): %w\n%s", bin, err, out)
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("the router snapshot was not written: %w", err)
	}
	return path, nil
}
