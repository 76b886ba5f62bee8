package deploy_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestLaunchdPlistsAreWellFormed parses every launchd agent: a malformed
// plist (say, "--" inside an XML comment) is refused by launchctl.
func TestLaunchdPlistsAreWellFormed(t *testing.T) {
	files, err := filepath.Glob("launchd/*.plist")
	if err != nil || len(files) < 2 {
		t.Fatalf("plists: %v, %v; want the evo and chroma agents", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := xml.NewDecoder(bytes.NewReader(data))
			var label bool
			for {
				tok, err := dec.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed XML: %v", err)
				}
				if c, ok := tok.(xml.CharData); ok && strings.HasPrefix(string(c), "com.evo-tr.") {
					label = true
				}
			}
			if !label {
				t.Error("no com.evo-tr.* label")
			}
		})
	}
}

func TestComposeHasTheServices(t *testing.T) {
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image string   `yaml:"image"`
			Ports []string `yaml:"ports"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for name, port := range map[string]string{"postgres": "127.0.0.1:5432:5432", "chroma": "127.0.0.1:8000:8000", "ollama": "127.0.0.1:11434:11434"} {
		s, ok := c.Services[name]
		if !ok || s.Image == "" || len(s.Ports) != 1 || s.Ports[0] != port {
			t.Errorf("service %s = %+v, want an image published on %s only", name, s, port)
		}
	}
}

func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile("systemd/evo.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[Service]", "ExecStart=/usr/local/bin/evo serve", "WorkingDirectory=/var/lib/evo", "ReadWritePaths=/var/lib/evo"} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("evo.service lacks %q", want)
		}
	}
}
