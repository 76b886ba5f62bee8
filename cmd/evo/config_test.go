package main

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// lookupFrom is the environment m. Where m does not name ROUTER_CACHE, it
// is testRouterCache: the tests' router snapshot lives in a temporary
// folder, not in the source tree, and is shared by the tests that use the
// same experts (it is made by this test binary, so it is never stale).
func lookupFrom(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		if !ok && k == "ROUTER_CACHE" {
			return testRouterCache(), true
		}
		return v, ok
	}
}

// exactly is the environment m and nothing else.
func exactly(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// testRouterCache is the router snapshot's path for this test binary's
// in-process runs: in a folder TestMain removes.
var testRouterCache = sync.OnceValue(func() string {
	dir, err := os.MkdirTemp("", "evo-router-")
	if err != nil {
		panic(err) // TempDir is unusable: every test would fail anyway
	}
	routerCacheDir = dir
	return filepath.Join(dir, "router.snapshot")
})

// routerCacheDir is testRouterCache's folder once made.
var routerCacheDir string

func TestEnvExampleMirrorsConfig(t *testing.T) {
	f, err := os.Open("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file, err := parseEnv(f)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	typ := reflect.TypeOf(Config{})
	for i := range typ.NumField() {
		tags = append(tags, typ.Field(i).Tag.Get("env"))
	}
	got := sortedKeys(file)
	sort.Strings(tags)
	if !reflect.DeepEqual(got, tags) {
		t.Errorf(".env.example keys = %v\nConfig keys = %v", got, tags)
	}
	// The example's values must load and equal the defaults.
	fromFile, err := LoadConfig(exactly(map[string]string{envFileKey: "../../.env.example"}))
	if err != nil {
		t.Fatalf("load .env.example: %v", err)
	}
	defaults, err := LoadConfig(exactly(map[string]string{envFileKey: os.DevNull}))
	if err != nil {
		t.Fatalf("load defaults: %v", err)
	}
	if !reflect.DeepEqual(fromFile, defaults) {
		t.Errorf(".env.example values differ from the defaults:\nfile:     %v\ndefaults: %v", fromFile, defaults)
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(Config) bool
		wantErr string // a substring; the key must be named
	}{
		{name: "defaults", env: nil, check: func(c Config) bool {
			return c.BaseModel == "qwen2.5:3b-instruct" && c.ContextMessages == 20 &&
				c.OllamaHost == "http://127.0.0.1:11434" && c.KeepAlive == -time.Second
		}},
		{name: "overrides", env: map[string]string{"CONTEXT_MESSAGES": "12", "ROUTER_THRESHOLD": "0.7", "TELEGRAM_ADMIN_IDS": "1, 2,,3"},
			check: func(c Config) bool {
				return c.ContextMessages == 12 && c.RouterThreshold == 0.7 && reflect.DeepEqual(c.TelegramAdminIDs, []string{"1", "2", "3"})
			}},
		{name: "bare ollama host", env: map[string]string{"OLLAMA_HOST": "127.0.0.1:9999"}, check: func(c Config) bool {
			u, err := c.OllamaURL()
			return err == nil && u.String() == "http://127.0.0.1:9999"
		}},
		{name: "bool", env: map[string]string{"MEMORY_IN_GROUPS": "true"}, check: func(c Config) bool { return c.MemoryInGroups }},
		{name: "bad bool", env: map[string]string{"MEMORY_IN_GROUPS": "belki"}, wantErr: "MEMORY_IN_GROUPS"},
		{name: "bad time zone", env: map[string]string{"SLEEP_TIMEZONE": "Avrupa/İstanbul"}, wantErr: "SLEEP_TIMEZONE"},
		{name: "bad int", env: map[string]string{"CONTEXT_MESSAGES": "yirmi"}, wantErr: "CONTEXT_MESSAGES"},
		{name: "below min", env: map[string]string{"CONTEXT_MESSAGES": "0"}, wantErr: "CONTEXT_MESSAGES"},
		{name: "bad duration", env: map[string]string{"REPLY_TIMEOUT": "5 dakika"}, wantErr: "REPLY_TIMEOUT"},
		{name: "bad threshold", env: map[string]string{"ROUTER_THRESHOLD": "1.5"}, wantErr: "ROUTER_THRESHOLD"},
		{name: "bad log level", env: map[string]string{"LOG_LEVEL": "loud"}, wantErr: "LOG_LEVEL"},
		{name: "bad url", env: map[string]string{"TELEGRAM_API_URL": "ftp://x"}, wantErr: "TELEGRAM_API_URL"},
		{name: "bad ollama host", env: map[string]string{"OLLAMA_HOST": "http://"}, wantErr: "OLLAMA_HOST"},
		{name: "predict above ctx", env: map[string]string{"NUM_CTX": "1024", "NUM_PREDICT": "2048"}, wantErr: "NUM_PREDICT"},
		{name: "missing env file named explicitly", env: map[string]string{envFileKey: "/nonexistent/.env"}, wantErr: "/nonexistent/.env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{envFileKey: os.DevNull}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := LoadConfig(lookupFrom(env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !tt.check(cfg) {
				t.Errorf("config = %v", cfg)
			}
		})
	}
}

func TestEnvFileAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/.env"
	content := "# comment\nexport BASE_MODEL=\"from-file\"\nCONTEXT_MESSAGES=15 # inline\nNUM_CTX='4096'\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(lookupFrom(map[string]string{envFileKey: path, "NUM_CTX": "2048"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.BaseModel, "from-file"; got != want {
		t.Errorf("BaseModel = %q, want %q", got, want)
	}
	if got, want := cfg.ContextMessages, 15; got != want {
		t.Errorf("ContextMessages = %d, want %d", got, want)
	}
	if got, want := cfg.NumCtx, 2048; got != want {
		t.Errorf("NumCtx = %d, want %d (environment wins)", got, want)
	}
}

func TestConfigStringHidesSecrets(t *testing.T) {
	cfg, err := LoadConfig(lookupFrom(map[string]string{envFileKey: os.DevNull,
		"TELEGRAM_BOT_TOKEN": "123:tok3nvalue", "DATABASE_URL": "postgres://u:hunter2@db/evo"}))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.String()
	for _, secret := range []string{"tok3nvalue", "hunter2"} {
		if strings.Contains(s, secret) {
			t.Errorf("String() leaks %q: %s", secret, s)
		}
	}
}

func TestConfigStringMasksConnectionSecrets(t *testing.T) {
	tests := []struct {
		name     string
		key, val string
		want     string // what String shows for the key
	}{
		{"postgres URL password", "DATABASE_URL", "postgres://evo:s3cr3t@db:5432/evo?sslmode=disable",
			"postgres://evo:xxxxx@db:5432/evo?sslmode=disable"},
		{"postgres URL password parameter", "DATABASE_URL", "postgres://evo@db/evo?sslmode=disable&password=s3cr3t",
			"postgres://evo@db/evo?sslmode=disable&password=xxxxx"},
		{"postgres URL without a password", "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/evo",
			"postgres://postgres@127.0.0.1:5432/evo"},
		{"keyword form", "DATABASE_URL", "host=db user=evo password=s3cr3t dbname=evo",
			"host=db user=evo password=*** dbname=evo"},
		{"keyword form, quoted with spaces", "DATABASE_URL", "host=db password = 's3cr3t and \\' more' dbname=evo",
			"host=db password = *** dbname=evo"},
		{"keyword form, upper case", "DATABASE_URL", "host=db PASSWORD=s3cr3t", "host=db PASSWORD=***"},
		{"chroma userinfo", "CHROMA_URL", "https://admin:s3cr3t@chroma.local:8000", "https://admin:xxxxx@chroma.local:8000"},
		{"chroma token as user", "CHROMA_URL", "https://s3cr3t@chroma.local", "https://xxxxx@chroma.local"},
		{"chroma query secrets", "CHROMA_URL", "http://127.0.0.1:8000/?token=s3cr3t&tenant=t1&api_key=s3cr3t&password=s3cr3t",
			"http://127.0.0.1:8000/?token=xxxxx&tenant=t1&api_key=xxxxx&password=xxxxx"},
		{"chroma plain", "CHROMA_URL", "http://127.0.0.1:8000", "http://127.0.0.1:8000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := LoadConfig(lookupFrom(map[string]string{envFileKey: os.DevNull, tt.key: tt.val}))
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			s := cfg.String()
			if strings.Contains(s, "s3cr3t") {
				t.Errorf("String() shows the secret: %s", s)
			}
			if !strings.Contains(s, tt.key+"="+tt.want+" ") {
				t.Errorf("String() shows %s as\n%s\nwant %s=%s", tt.key, s, tt.key, tt.want)
			}
		})
	}
	t.Run("a CHROMA_URL that is refused is masked in the error", func(t *testing.T) {
		_, err := LoadConfig(lookupFrom(map[string]string{envFileKey: os.DevNull, "CHROMA_URL": "ftp://u:s3cr3t@h/?token=s3cr3t"}))
		if err == nil || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "CHROMA_URL") {
			t.Errorf("LoadConfig error = %v, want one naming CHROMA_URL without the secret", err)
		}
	})
}
