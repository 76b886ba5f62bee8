// Command weakglibc marks one glibc symbol version that a shared object
// needs as weak, so that the object loads on an older glibc.
//
// The Chroma server npm package (chromadb-js-bindings-linux-x64-gnu
// 1.0.6–1.3.1) is linked against glibc 2.39 but needs GLIBC_2.39 only for
// two weak symbols (pidfd_getpid, pidfd_spawnp). The dynamic loader still
// refuses a missing version unless its version-need entry carries
// VER_FLG_WEAK, so Debian 12 (glibc 2.36) cannot load it. This command sets
// vna_flags to VER_FLG_WEAK on that entry of the .gnu.version_r section,
// in place. It refuses when a strong symbol needs the version (the object
// would then fail at run time instead of at load time), and it changes
// nothing when the entry is already weak or absent, so running it twice is
// harmless.
//
// Usage:
//
//	go run ./memory/chroma/chromatest/internal/weakglibc [-version GLIBC_2.39] FILE...
package main

import (
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	version := flag.String("version", "GLIBC_2.39", "the glibc symbol version to mark weak")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: weakglibc [-version GLIBC_2.39] FILE...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, path := range flag.Args() {
		n, err := Weaken(path, *version)
		if err != nil {
			fmt.Fprintf(os.Stderr, "weakglibc: %s: %v\n", path, err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "weakglibc: %s: %d %s entr%s newly marked weak\n", path, n, *version, plural(n))
	}
}

func plural(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

// Sizes of Elf64_Verneed / Elf32_Verneed and of Elf_Vernaux: the same on
// both classes.
const (
	verneedSize = 16
	vernauxSize = 16
)

// auxEntry is one version a file needs, with the file offset of its
// vna_flags field.
type auxEntry struct {
	lib, name   string
	flags       uint16
	flagsOffset int64
}

// Weaken marks every version-need entry named version in the ELF file
// at path as weak and reports how many entries it changed (0 when they
// were weak already or when the file does not need that version).
func Weaken(path, version string) (int, error) {
	entries, order, err := readNeeds(path)
	if err != nil {
		return 0, err
	}
	var todo []auxEntry
	for _, e := range entries {
		if e.name == version && e.flags&uint16(elf.VER_FLG_WEAK) == 0 {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		return 0, nil
	}
	if err := onlyWeakSymbols(path, version); err != nil {
		return 0, err
	}
	return markWeak(path, order, todo)
}

// markWeak sets VER_FLG_WEAK on the entries, in place.
func markWeak(path string, order byteOrder, todo []auxEntry) (int, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("open for writing: %w", err)
	}
	for _, e := range todo {
		b := make([]byte, 2)
		order.PutUint16(b, e.flags|uint16(elf.VER_FLG_WEAK))
		if _, err := f.WriteAt(b, e.flagsOffset); err != nil {
			f.Close()
			return 0, fmt.Errorf("write flags of %s (%s): %w", e.name, e.lib, err)
		}
	}
	if err := f.Close(); err != nil {
		return 0, fmt.Errorf("close: %w", err)
	}
	return len(todo), nil
}

// byteOrder is what Weaken needs of binary.ByteOrder.
type byteOrder interface {
	Uint16([]byte) uint16
	Uint32([]byte) uint32
	PutUint16([]byte, uint16)
}

// readNeeds walks the .gnu.version_r section of the file at path.
func readNeeds(path string) ([]auxEntry, byteOrder, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read ELF: %w", err)
	}
	defer f.Close()
	sec := f.SectionByType(elf.SHT_GNU_VERNEED)
	if sec == nil {
		return nil, f.ByteOrder, nil
	}
	if int(sec.Link) >= len(f.Sections) {
		return nil, nil, fmt.Errorf("%s links to section %d, which does not exist", sec.Name, sec.Link)
	}
	strs, err := f.Sections[sec.Link].Data()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", f.Sections[sec.Link].Name, err)
	}
	data, err := sec.Data()
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", sec.Name, err)
	}
	str := func(off uint32) (string, error) {
		if int(off) >= len(strs) {
			return "", fmt.Errorf("string offset %d beyond %d bytes", off, len(strs))
		}
		end := int(off)
		for end < len(strs) && strs[end] != 0 {
			end++
		}
		return string(strs[off:end]), nil
	}
	bo := f.ByteOrder
	var out []auxEntry
	for i, off := 0, 0; ; i++ {
		if i > len(data)/verneedSize || off < 0 || off+verneedSize > len(data) {
			return nil, nil, errors.New("malformed .gnu.version_r: Verneed entry out of bounds")
		}
		vn := data[off:]
		cnt := int(bo.Uint16(vn[2:]))
		lib, err := str(bo.Uint32(vn[4:]))
		if err != nil {
			return nil, nil, fmt.Errorf("library name: %w", err)
		}
		aux := off + int(bo.Uint32(vn[8:]))
		for j := 0; j < cnt; j++ {
			if aux < 0 || aux+vernauxSize > len(data) {
				return nil, nil, errors.New("malformed .gnu.version_r: Vernaux entry out of bounds")
			}
			va := data[aux:]
			name, err := str(bo.Uint32(va[8:]))
			if err != nil {
				return nil, nil, fmt.Errorf("version name: %w", err)
			}
			out = append(out, auxEntry{
				lib:         lib,
				name:        name,
				flags:       bo.Uint16(va[4:]),
				flagsOffset: int64(sec.Offset) + int64(aux) + 4,
			})
			next := int(bo.Uint32(va[12:]))
			if next == 0 {
				break
			}
			aux += next
		}
		next := int(bo.Uint32(vn[12:]))
		if next == 0 {
			break
		}
		off += next
	}
	return out, bo, nil
}

// onlyWeakSymbols fails when a symbol the file imports at version is not
// weak: marking the version weak would only defer that failure.
func onlyWeakSymbols(path, version string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("read ELF: %w", err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read dynamic symbols: %w", err)
	}
	var strong []string
	for _, s := range syms {
		if s.Version == version && s.Section == elf.SHN_UNDEF && elf.ST_BIND(s.Info) != elf.STB_WEAK {
			strong = append(strong, s.Name)
		}
	}
	if len(strong) > 0 {
		return fmt.Errorf("symbols %q need %s and are not weak: the file cannot work without it", strong, version)
	}
	return nil
}
