package main

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// systemBinary copies a dynamically linked system program that needs
// GLIBC_2.3.4 or GLIBC_2.2.5 into a temporary file and returns its path and
// the version it needs.
func systemBinary(t *testing.T) (path, version string) {
	t.Helper()
	for _, src := range []string{"/bin/ls", "/usr/bin/ls", "/bin/sh", "/usr/bin/env"} {
		data, err := os.ReadFile(src)
		if err != nil {
			continue
		}
		path = filepath.Join(t.TempDir(), filepath.Base(src))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatalf("copy %s: %v", src, err)
		}
		entries, _, err := readNeeds(path)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.name == "GLIBC_2.3.4" || e.name == "GLIBC_2.2.5" {
				return path, e.name
			}
		}
	}
	t.Fatal("no dynamically linked system program that needs GLIBC_2.3.4 or GLIBC_2.2.5")
	return "", ""
}

// flags returns the flags of every version need of the file at path, by
// library and version name, as debug/elf reads them.
func flags(t *testing.T, path string) map[string]elf.DynamicVersionFlag {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	needs, err := f.DynamicVersionNeeds()
	if err != nil {
		t.Fatalf("DynamicVersionNeeds: %v", err)
	}
	out := map[string]elf.DynamicVersionFlag{}
	for _, n := range needs {
		for _, d := range n.Needs {
			out[n.Name+" "+d.Dep] = d.Flags
		}
	}
	return out
}

func TestMarkWeakSetsOnlyThatVersionAndIsIdempotent(t *testing.T) {
	path, version := systemBinary(t)
	before := flags(t, path)
	entries, order, err := readNeeds(path)
	if err != nil {
		t.Fatalf("readNeeds: %v", err)
	}
	if got, want := len(entries), len(before); got != want {
		t.Fatalf("readNeeds found %d entries, want %d (as debug/elf reads them)", got, want)
	}
	var todo []auxEntry
	for _, e := range entries {
		if e.name == version {
			todo = append(todo, e)
		}
	}
	n, err := markWeak(path, order, todo)
	if err != nil || n != len(todo) {
		t.Fatalf("markWeak: got %d, %v; want %d, nil", n, err, len(todo))
	}
	after := flags(t, path)
	for key, was := range before {
		want := was
		if strings.HasSuffix(key, " "+version) {
			want |= elf.VER_FLG_WEAK
		}
		if got := after[key]; got != want {
			t.Errorf("flags of %s: got %v, want %v", key, got, want)
		}
	}

	// A second run finds nothing to do, even though the symbols at that
	// version are strong, and leaves the file as it is.
	data := readFile(t, path)
	if n, err := Weaken(path, version); err != nil || n != 0 {
		t.Errorf("Weaken of an entry that is weak already: got %d, %v; want 0, nil", n, err)
	}
	if !bytes.Equal(readFile(t, path), data) {
		t.Error("Weaken changed a file whose entry was weak already")
	}
}

func TestWeakenRefusesStrongSymbols(t *testing.T) {
	path, version := systemBinary(t)
	data := readFile(t, path)
	n, err := Weaken(path, version)
	if err == nil || !strings.Contains(err.Error(), "not weak") {
		t.Errorf("Weaken(%s) with strong symbols: got %d, %v; want a \"not weak\" error", version, n, err)
	}
	if !bytes.Equal(readFile(t, path), data) {
		t.Error("a refused Weaken changed the file")
	}
}

func TestWeakenAbsentVersionChangesNothing(t *testing.T) {
	path, _ := systemBinary(t)
	data := readFile(t, path)
	n, err := Weaken(path, "GLIBC_9.99")
	if err != nil || n != 0 {
		t.Errorf("Weaken of a version the file does not need: got %d, %v; want 0, nil", n, err)
	}
	if !bytes.Equal(readFile(t, path), data) {
		t.Error("Weaken of an absent version changed the file")
	}
}

func TestWeakenNotELF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.node")
	if err := os.WriteFile(path, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Weaken(path, "GLIBC_2.39"); err == nil {
		t.Error("Weaken of a file that is not ELF: got no error, want one")
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return data
}
