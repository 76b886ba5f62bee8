package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config mirrors .env.example key by key: every field has an `env` tag
// naming its key and, where the key is optional, a `default`. A test keeps
// the two in step.
type Config struct {
	// Storage.
	DatabaseURL string `env:"DATABASE_URL" default:"postgres://postgres@127.0.0.1:5432/evo?sslmode=disable"`

	// Models.
	OllamaHost       string        `env:"OLLAMA_HOST" default:"http://127.0.0.1:11434"`
	BaseModel        string        `env:"BASE_MODEL" default:"qwen2.5:3b-instruct"`
	NumCtx           int           `env:"NUM_CTX" default:"8192" min:"512"`
	NumPredict       int           `env:"NUM_PREDICT" default:"1024" min:"16"`
	KeepAlive        time.Duration `env:"KEEP_ALIVE" default:"-1s"`
	MaxParallel      int           `env:"MAX_PARALLEL" default:"2" min:"1"`
	ReplyTimeout     time.Duration `env:"REPLY_TIMEOUT" default:"3m" min:"1"`
	ContextMessages  int           `env:"CONTEXT_MESSAGES" default:"20" min:"1"`
	ExpertsDir       string        `env:"EXPERTS_DIR" default:"deploy/experts"`
	RouterThreshold  float64       `env:"ROUTER_THRESHOLD" default:"0.72"`
	RouterEmbedModel string        `env:"ROUTER_EMBED_MODEL"`
	RouterCache      string        `env:"ROUTER_CACHE" default:"data/router.snapshot"`
	AdapterTRPath    string        `env:"ADAPTER_TR_PATH"`
	AdapterPyPath    string        `env:"ADAPTER_PYTHON_PATH"`

	// Long-term memory and the night.
	ChromaURL        string `env:"CHROMA_URL"`
	EmbedModel       string `env:"EMBED_MODEL" default:"bge-m3"`
	MemoryK          int    `env:"MEMORY_K" default:"3" min:"1"`
	MemoryInGroups   bool   `env:"MEMORY_IN_GROUPS" default:"false"`
	SleepSchedule    string `env:"SLEEP_SCHEDULE" default:"0 3 * * *"`
	SleepTimezone    string `env:"SLEEP_TIMEZONE" default:"Europe/Istanbul"`
	SleepMinMessages int    `env:"SLEEP_MIN_MESSAGES" default:"2" min:"1"`
	TrainingDir      string `env:"TRAINING_DIR" default:"data/training"`

	// Service.
	HTTPAddr        string        `env:"HTTP_ADDR" default:"127.0.0.1:8080"`
	LogLevel        string        `env:"LOG_LEVEL" default:"info" oneof:"debug,info,warn,error"`
	LogFormat       string        `env:"LOG_FORMAT" default:"text" oneof:"text,json"`
	SpoolDir        string        `env:"SPOOL_DIR" default:"data/spool"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" default:"30s" min:"1"`
	ResumeWindow    time.Duration `env:"RESUME_WINDOW" default:"15m"`

	// Access.
	AccessMode         string   `env:"ACCESS_MODE" default:"pairing" oneof:"pairing,allowlist,open"`
	AllowedUsers       []string `env:"ALLOWED_USERS"`
	RateLimitPerMinute int      `env:"RATE_LIMIT_PER_MINUTE" default:"20" min:"0"`

	// Telegram.
	TelegramBotToken      string   `env:"TELEGRAM_BOT_TOKEN" secret:"true"`
	TelegramAPIURL        string   `env:"TELEGRAM_API_URL" default:"https://api.telegram.org"`
	TelegramWebhookURL    string   `env:"TELEGRAM_WEBHOOK_URL"`
	TelegramWebhookSecret string   `env:"TELEGRAM_WEBHOOK_SECRET" secret:"true"`
	TelegramWebhookListen string   `env:"TELEGRAM_WEBHOOK_LISTEN" default:"127.0.0.1:8443"`
	TelegramAdminIDs      []string `env:"TELEGRAM_ADMIN_IDS"`

	// Discord.
	DiscordBotToken string   `env:"DISCORD_BOT_TOKEN" secret:"true"`
	DiscordAPIURL   string   `env:"DISCORD_API_URL" default:"https://discord.com"`
	DiscordAdminIDs []string `env:"DISCORD_ADMIN_IDS"`
}

// envFileKey names the variable that points at the .env file.
const envFileKey = "EVO_ENV_FILE"

// LoadConfig reads the configuration from lookup (the environment) and the
// .env file it names in EVO_ENV_FILE (default ".env", optional). The
// environment wins over the file. A malformed value is an error naming its
// key.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	file := ".env"
	explicit := false
	if v, ok := lookup(envFileKey); ok && v != "" {
		file, explicit = v, true
	}
	fromFile, err := readEnvFile(file)
	if err != nil && (explicit || !errors.Is(err, os.ErrNotExist)) {
		return Config{}, fmt.Errorf("read %s: %w", file, err)
	}
	get := func(key string) (string, bool) {
		if v, ok := lookup(key); ok {
			return v, true
		}
		v, ok := fromFile[key]
		return v, ok
	}
	var cfg Config
	if err := decodeConfig(&cfg, get); err != nil {
		return Config{}, err
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// decodeConfig fills cfg's tagged fields from get.
func decodeConfig(cfg *Config, get func(string) (string, bool)) error {
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get("env")
		raw, ok := get(key)
		raw = strings.TrimSpace(raw)
		if !ok || raw == "" {
			raw = f.Tag.Get("default")
		}
		if err := setField(v.Field(i), raw); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if err := checkTags(f, v.Field(i), raw); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	return nil
}

func setField(fv reflect.Value, raw string) error {
	switch fv.Interface().(type) {
	case string:
		fv.SetString(raw)
	case int:
		if raw == "" {
			return nil
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", raw)
		}
		fv.SetInt(int64(n))
	case float64:
		if raw == "" {
			return nil
		}
		x, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", raw)
		}
		fv.SetFloat(x)
	case bool:
		if raw == "" {
			return nil
		}
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		fv.SetBool(b)
	case time.Duration:
		if raw == "" {
			return nil
		}
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 90s, 5m, -1s)", raw)
		}
		fv.SetInt(int64(d))
	case []string:
		var out []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		fv.Set(reflect.ValueOf(out))
	default:
		return fmt.Errorf("unsupported field type %s", fv.Type())
	}
	return nil
}

func checkTags(f reflect.StructField, fv reflect.Value, raw string) error {
	if m := f.Tag.Get("min"); m != "" {
		min, _ := strconv.ParseFloat(m, 64)
		var got float64
		switch fv.Kind() {
		case reflect.Int, reflect.Int64:
			got = float64(fv.Int())
		case reflect.Float64:
			got = fv.Float()
		}
		if got < min {
			return fmt.Errorf("%q is below the minimum %s", raw, m)
		}
	}
	if one := f.Tag.Get("oneof"); one != "" {
		allowed := strings.Split(one, ",")
		for _, a := range allowed {
			if strings.EqualFold(raw, a) {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of %s", raw, strings.Join(allowed, ", "))
	}
	return nil
}

func (c Config) validate() error {
	if c.RouterThreshold < 0 || c.RouterThreshold > 1 {
		return fmt.Errorf("ROUTER_THRESHOLD: %v is not between 0 and 1", c.RouterThreshold)
	}
	if _, err := c.OllamaURL(); err != nil {
		return fmt.Errorf("OLLAMA_HOST: %w", err)
	}
	if c.DatabaseURL == "" {
		return errors.New("DATABASE_URL: must be set")
	}
	for key, u := range map[string]string{"TELEGRAM_API_URL": c.TelegramAPIURL, "DISCORD_API_URL": c.DiscordAPIURL} {
		if _, err := parseHTTPURL(u); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	if c.TelegramWebhookURL != "" {
		if _, err := parseHTTPURL(c.TelegramWebhookURL); err != nil {
			return fmt.Errorf("TELEGRAM_WEBHOOK_URL: %w", err)
		}
	}
	if c.ChromaURL != "" {
		if _, err := parseHTTPURL(c.ChromaURL); err != nil {
			return fmt.Errorf("CHROMA_URL: %q is not an http(s) URL", maskURL(c.ChromaURL))
		}
	}
	if _, err := c.SleepLocation(); err != nil {
		return err
	}
	if c.NumPredict >= c.NumCtx {
		return fmt.Errorf("NUM_PREDICT: %d must be below NUM_CTX (%d)", c.NumPredict, c.NumCtx)
	}
	if _, err := c.allowedUsers(); err != nil { // users.go
		return err
	}
	return nil
}

// SleepLocation loads SLEEP_TIMEZONE (the zone database is built into evo).
func (c Config) SleepLocation() (*time.Location, error) {
	loc, err := time.LoadLocation(c.SleepTimezone)
	if err != nil || c.SleepTimezone == "" {
		return nil, fmt.Errorf("SLEEP_TIMEZONE: %q is not a time zone (e.g. Europe/Istanbul)", c.SleepTimezone)
	}
	return loc, nil
}

// OllamaURL parses OLLAMA_HOST the way Ollama does: a bare host:port gets
// http:// in front.
func (c Config) OllamaURL() (*url.URL, error) {
	h := strings.TrimSpace(c.OllamaHost)
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	return parseHTTPURL(h)
}

func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", s)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", s)
	}
	return u, nil
}

// readEnvFile parses a .env file: KEY=VALUE lines, # comments, optional
// `export ` prefixes and single or double quotes around values.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseEnv(f)
}

func parseEnv(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, val, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", n)
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
			val = val[1 : len(val)-1]
		} else if i := strings.Index(val, " #"); i >= 0 {
			val = strings.TrimSpace(val[:i])
		}
		out[key] = val
	}
	return out, sc.Err()
}

// String renders the configuration for logs with secrets masked: the
// tokens, and the passwords and keys inside DATABASE_URL and CHROMA_URL.
func (c Config) String() string {
	v := reflect.ValueOf(c)
	t := v.Type()
	var b strings.Builder
	for i := range t.NumField() {
		f := t.Field(i)
		val := fmt.Sprint(v.Field(i).Interface())
		if f.Tag.Get("secret") == "true" && val != "" {
			val = "***"
		}
		switch f.Name {
		case "DatabaseURL":
			val = maskDSN(val)
		case "ChromaURL":
			val = maskURL(val)
		}
		fmt.Fprintf(&b, "%s=%s ", f.Tag.Get("env"), val)
	}
	return strings.TrimSpace(b.String())
}

// secretParam matches the names of query parameters that hold secrets.
var secretParam = regexp.MustCompile(`(?i)pass|token|key|secret`)

// dsnPassword is a password in a keyword/value connection string:
// password=x, password = 'x y', with \' escapes inside quotes.
var dsnPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:\\.|[^'\\])*'?|\S*)`)

// maskDSN hides the password of a PostgreSQL connection string, in URL
// form (postgres://u:secret@h/db, ?password=secret) or keyword form
// (host=h password=secret).
func maskDSN(s string) string {
	if strings.Contains(s, "://") {
		return maskURL(s)
	}
	return dsnPassword.ReplaceAllString(s, "${1}***")
}

// maskURL hides a URL's password and any query parameter that holds a
// secret (password, token, key); a URL it cannot read is hidden whole.
// With a user but no password, the user (often a token) is hidden too.
func maskURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "***"
	}
	if u.User != nil {
		if _, set := u.User.Password(); set {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else if u.Scheme != "postgres" && u.Scheme != "postgresql" {
			u.User = url.User("xxxxx")
		}
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			k, _, hasValue := strings.Cut(p, "=")
			if name, err := url.QueryUnescape(k); err == nil && hasValue && secretParam.MatchString(name) {
				parts[i] = k + "=xxxxx"
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}
