package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"

	"github.com/optinbot/optinbot/adapters/consenthook"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// Config is `optinbot serve`'s configuration, mirrored by
// config.example.yaml. Values may reference environment variables as
// ${NAME}; secrets (the database password, NATS credentials) belong there,
// never in the file.
type Config struct {
	LogLevel  string           `yaml:"log_level"`
	Store     StoreConfig      `yaml:"store"`
	NATS      NATSConfig       `yaml:"nats"`
	Metrics   MetricsConfig    `yaml:"metrics"`
	API       APIConfig        `yaml:"api"`
	Retention RetentionConfig  `yaml:"retention"`
	Privacy   PrivacyConfig    `yaml:"privacy"`
	Defaults  CapsConfig       `yaml:"defaults"`
	Business  []BusinessConfig `yaml:"businesses"`
	// Webhooks is the provider webhook server; Providers the adapters it
	// and the senders run (see docs/adapters.md).
	Webhooks  WebhookServerConfig `yaml:"webhooks"`
	Providers ProvidersConfig     `yaml:"providers"`

	dir string // the config file's directory: flow paths are relative to it
}

// StoreConfig names the database.
type StoreConfig struct {
	DSN string `yaml:"dsn"`
}

// NATSConfig names the NATS server and the subjects' prefix.
type NATSConfig struct {
	URL             string        `yaml:"url"`
	CredsFile       string        `yaml:"creds_file"`
	Token           string        `yaml:"token"`
	SubjectPrefix   string        `yaml:"subject_prefix"`
	DuplicateWindow time.Duration `yaml:"duplicate_window"`
	Workers         int           `yaml:"workers"`
}

// APIConfig says where the business API is served (docs/api.md) and how
// hard each API key may call it.
type APIConfig struct {
	Listen            string  `yaml:"listen"`
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst"`
}

// MetricsConfig says where Prometheus metrics are served.
type MetricsConfig struct {
	Listen string `yaml:"listen"`
}

// RetentionConfig says how long processed message ids are remembered, and
// with them published outbox rows and the latest delivery status of each
// message.
type RetentionConfig struct {
	ProcessedIDs time.Duration `yaml:"processed_ids"`
}

// PrivacyConfig holds the key of the suppression list of erased customers
// (bot.CustomerHash). Give it from the environment, e.g.
// ${OPTINBOT_SUPPRESSION_KEY}: at least 32 bytes, the same for every
// instance. Empty: the deployment generates one and keeps it in its
// database.
type PrivacyConfig struct {
	SuppressionKey string `yaml:"suppression_key"`
}

// CapsConfig is a frequency cap.
type CapsConfig struct {
	TemplatesPerDay int            `yaml:"templates_per_day"`
	TopicCaps       map[string]int `yaml:"topic_caps"`
}

// BusinessConfig routes senders to a business and its flow.
type BusinessConfig struct {
	ID      string   `yaml:"id"`
	Flow    string   `yaml:"flow"`
	Senders []string `yaml:"senders"`
	// QualityNumbers, optional, are the display numbers of the business's
	// senders (15550101234), as Meta's quality updates name them; a quality
	// update for a number no business lists goes to the only business, if
	// there is one (docs/quality.md).
	QualityNumbers []string                     `yaml:"quality_numbers"`
	Caps           CapsConfig                   `yaml:",inline"`
	Keywords       map[string]KeywordListConfig `yaml:"keywords"`
	// ConsentWebhook, optional, is where every consent change of the
	// business is POSTed, signed (docs/api.md, "Consent webhooks").
	ConsentWebhook *ConsentWebhookConfig `yaml:"consent_webhook"`
}

// ConsentWebhookConfig is a business's consent webhook: its URL and where
// the signing secret is, an environment variable or a file (never the
// config file itself).
type ConsentWebhookConfig struct {
	URL        string `yaml:"url"`
	SecretEnv  string `yaml:"secret_env"`
	SecretFile string `yaml:"secret_file"`
}

// secret reads the signing secret from the environment or the file (a
// trailing newline of the file is not part of it; a relative path is
// relative to the config file). The error names the business and the
// field.
func (w *ConsentWebhookConfig) secret(business, dir string) (string, error) {
	where := fmt.Sprintf("business %q: consent_webhook", business)
	switch {
	case w.SecretEnv != "" && w.SecretFile != "":
		return "", fmt.Errorf("%s: set secret_env or secret_file, not both", where)
	case w.SecretEnv != "":
		v, ok := os.LookupEnv(w.SecretEnv)
		if !ok || v == "" {
			return "", fmt.Errorf("%s.secret_env: environment variable %s is not set or empty: it must hold the webhook's signing secret", where, w.SecretEnv)
		}
		return v, nil
	case w.SecretFile != "":
		path := w.SecretFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s.secret_file: %w", where, err)
		}
		v := strings.TrimRight(string(data), "\r\n")
		if v == "" {
			return "", fmt.Errorf("%s.secret_file: %s is empty: it must hold the webhook's signing secret", where, w.SecretFile)
		}
		return v, nil
	}
	return "", fmt.Errorf("%s: the signing secret is missing: set secret_env (an environment variable's name) or secret_file", where)
}

// KeywordListConfig overrides one language's global keyword lists.
type KeywordListConfig struct {
	OptOut []string `yaml:"opt_out"`
	OptIn  []string `yaml:"opt_in"`
	Help   []string `yaml:"help"`
	Polite []string `yaml:"polite"`
}

// MinProcessedRetention is the shortest time processed ids are kept:
// providers retry a webhook for up to 7 days.
const MinProcessedRetention = 7 * 24 * time.Hour

var (
	envRef       = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	businessIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	// yaml.v3 names Go types in its unknown-key errors; users know keys.
	unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
)

// LoadConfig reads, expands and validates a config file. It reports every
// problem it finds at once, one per line.
func LoadConfig(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var problems []error
	// Pass 1: the file as written, strictly, so unknown keys and wrong
	// types are reported with their real line numbers.
	strict := yaml.NewDecoder(bytes.NewReader(raw))
	strict.KnownFields(true)
	if err := strict.Decode(&Config{}); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				msg = unknownField.ReplaceAllString(msg, "unknown key '$1'; see config.example.yaml for every setting")
				problems = append(problems, fmt.Errorf("%s: %s", path, msg))
			}
		} else {
			problems = append(problems, fmt.Errorf("%s: %w", path, err))
		}
	}
	// Pass 2: ${NAME} expanded in values only (never in comments or keys).
	cfg := &Config{dir: filepath.Dir(path)}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err == nil {
		problems = append(problems, expandEnv(path, &doc)...)
		_ = doc.Decode(cfg) // pass 1 reported whatever does not fit
	}
	cfg.applyDefaults()
	problems = append(problems, cfg.Validate()...)
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return cfg, nil
}

// expandEnv replaces ${NAME} in every scalar value with the environment
// variable's value; a variable that is not set is a problem.
func expandEnv(path string, n *yaml.Node) []error {
	var problems []error
	if n.Kind == yaml.ScalarNode {
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			val, ok := os.LookupEnv(name)
			if !ok {
				problems = append(problems, fmt.Errorf("%s:%d:%d: environment variable %s is referenced but not set", path, n.Line, n.Column, name))
			}
			return val
		})
	}
	for i, child := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			continue // keys stay as written
		}
		problems = append(problems, expandEnv(path, child)...)
	}
	return problems
}

func (c *Config) applyDefaults() {
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.NATS.URL == "" {
		c.NATS.URL = "nats://127.0.0.1:4222"
	}
	if c.NATS.SubjectPrefix == "" {
		c.NATS.SubjectPrefix = "optinbot"
	}
	if c.NATS.DuplicateWindow == 0 {
		c.NATS.DuplicateWindow = 10 * time.Minute
	}
	if c.NATS.Workers == 0 {
		c.NATS.Workers = 8
	}
	if c.Retention.ProcessedIDs == 0 {
		c.Retention.ProcessedIDs = 30 * 24 * time.Hour
	}
	if c.Defaults.TemplatesPerDay == 0 {
		c.Defaults.TemplatesPerDay = bot.DefaultTemplatesPerDay
	}
	if c.Webhooks.MaxBody == 0 {
		c.Webhooks.MaxBody = 1 << 20
	}
}

// Validate returns one error per problem.
func (c *Config) Validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, err := zerolog.ParseLevel(c.LogLevel); err != nil {
		bad("log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.Store.DSN == "" {
		bad("store.dsn is empty: set it, e.g. to ${OPTINBOT_DATABASE_URL}")
	}
	if !strings.HasPrefix(c.NATS.URL, "nats://") && !strings.HasPrefix(c.NATS.URL, "tls://") {
		bad("nats.url %q: want nats://host:port or tls://host:port", c.NATS.URL)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(c.NATS.SubjectPrefix) {
		bad("nats.subject_prefix %q: want letters, digits, _ or - (one subject token)", c.NATS.SubjectPrefix)
	}
	if c.NATS.Workers < 1 {
		bad("nats.workers %d: want at least 1", c.NATS.Workers)
	}
	if c.Retention.ProcessedIDs < MinProcessedRetention {
		bad("retention.processed_ids %s: want at least 168h (providers redeliver for 7 days)", c.Retention.ProcessedIDs)
	}
	if n := len(c.Privacy.SuppressionKey); n > 0 && n < bot.MinSuppressionKey {
		bad("privacy.suppression_key has %d bytes: want at least %d (e.g. the output of openssl rand -hex 32)", n, bot.MinSuppressionKey)
	}
	if c.Defaults.TemplatesPerDay < 1 {
		bad("defaults.templates_per_day %d: want at least 1", c.Defaults.TemplatesPerDay)
	}
	if len(c.Business) == 0 {
		bad("businesses: at least one business is needed")
	}
	if c.API.RequestsPerSecond < 0 || c.API.Burst < 0 {
		bad("api.requests_per_second %g and api.burst %d: want 0 (the default) or more", c.API.RequestsPerSecond, c.API.Burst)
	}
	if c.Webhooks.MaxBody < 1024 {
		bad("webhooks.max_body %d: want at least 1024 bytes", c.Webhooks.MaxBody)
	}
	ids, senders := map[string]bool{}, map[string]string{}
	for i, b := range c.Business {
		where := fmt.Sprintf("businesses[%d]", i)
		if b.ID != "" {
			where = fmt.Sprintf("business %q", b.ID)
		}
		switch {
		case !businessIDRe.MatchString(b.ID):
			bad("%s: id %q: want lower-case letters, digits, _ or -", where, b.ID)
		case ids[b.ID]:
			bad("%s: id is used twice", where)
		}
		ids[b.ID] = true
		if b.Flow == "" {
			bad("%s: flow is empty: name the flow file", where)
		}
		if len(b.Senders) == 0 {
			bad("%s: senders is empty: list the numbers or ids customers write to", where)
		}
		for _, s := range b.Senders {
			if other, dup := senders[s]; dup {
				bad("%s: sender %q already belongs to business %q", where, s, other)
			}
			senders[s] = b.ID
		}
		if w := b.ConsentWebhook; w != nil {
			if w.URL == "" {
				bad("%s: consent_webhook.url is empty: give the https:// URL the consent changes are POSTed to", where)
			} else if _, err := consenthook.CheckURL(w.URL); err != nil {
				bad("%s: consent_webhook.%v", where, err)
			}
			if _, err := w.secret(b.ID, c.dir); err != nil {
				errs = append(errs, err)
			}
		}
		if b.Caps.TemplatesPerDay < 0 {
			bad("%s: templates_per_day %d: want 0 (the default) or more", where, b.Caps.TemplatesPerDay)
		}
		for topic, n := range b.Caps.TopicCaps {
			if n < 1 {
				bad("%s: topic_caps.%s %d: want at least 1", where, topic, n)
			}
		}
	}
	sentBy := map[string]string{}
	for _, p := range []struct {
		name string
		sc   *SendingConfig
	}{{"meta", c.Providers.Meta.sending()}, {"dialog360", c.Providers.Dialog360.sending()}, {"twilio", c.Providers.Twilio.sending()}} {
		name, sc := p.name, p.sc
		if sc == nil {
			continue
		}
		if sc.RatePerSecond < 0 {
			bad("providers.%s.rate_per_second %g: want 0 (the default) or more", name, sc.RatePerSecond)
		}
		for _, s := range sc.Senders {
			if _, ok := senders[s]; !ok {
				bad("providers.%s.senders: %q is no business's sender (list it under a business's senders)", name, s)
			}
			if other, dup := sentBy[s]; dup {
				bad("providers.%s.senders: %q is already sent by providers.%s", name, s, other)
			}
			sentBy[s] = name
		}
	}
	if (c.Providers.Meta != nil || c.Providers.Dialog360 != nil || c.Providers.Twilio != nil) && c.Webhooks.Listen == "" {
		bad("webhooks.listen is empty but providers are configured: give the webhook server an address such as :8080")
	}
	return errs
}

// sending returns a provider's sending settings, nil when the provider is
// not configured.
func (m *MetaConfig) sending() *SendingConfig {
	if m == nil {
		return nil
	}
	return &m.SendingConfig
}

func (d *Dialog360Config) sending() *SendingConfig {
	if d == nil {
		return nil
	}
	return &d.SendingConfig
}

func (t *TwilioConfig) sending() *SendingConfig {
	if t == nil {
		return nil
	}
	return &t.SendingConfig
}

// numberedSenders are the business's senders whose provider shows a text
// message's buttons and list rows as numbered lines, so that a bare
// number answers them: Twilio's.
func (c *Config) numberedSenders(b BusinessConfig) []string {
	if c.Providers.Twilio == nil {
		return nil
	}
	var out []string
	for _, s := range b.Senders {
		if slices.Contains(c.Providers.Twilio.Senders, s) {
			out = append(out, s)
		}
	}
	return out
}

// FlowPath resolves a business's flow file relative to the config file.
func (c *Config) FlowPath(b BusinessConfig) string {
	if filepath.IsAbs(b.Flow) {
		return b.Flow
	}
	return filepath.Join(c.dir, b.Flow)
}

// BusinessConfigs loads every business's flow and builds the engine's
// configuration, reporting every flow that does not load or whose caps name
// unknown topics.
func (c *Config) BusinessConfigs() ([]bot.BusinessConfig, error) {
	var out []bot.BusinessConfig
	var errs []error
	for _, b := range c.Business {
		path := c.FlowPath(b)
		src, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("business %q: read flow: %w", b.ID, err))
			continue
		}
		flow, err := flows.Load(path, src)
		if err != nil {
			errs = append(errs, fmt.Errorf("business %q: flow does not load:\n%w", b.ID, err))
			continue
		}
		caps := bot.Caps{TemplatesPerDay: c.Defaults.TemplatesPerDay, PerTopic: map[flows.Topic]int{}}
		if b.Caps.TemplatesPerDay > 0 {
			caps.TemplatesPerDay = b.Caps.TemplatesPerDay
		}
		for _, tc := range []map[string]int{c.Defaults.TopicCaps, b.Caps.TopicCaps} {
			for topic, n := range tc {
				caps.PerTopic[flows.Topic(topic)] = n
			}
		}
		for topic := range b.Caps.TopicCaps {
			if _, ok := flow.Topic(flows.Topic(topic)); !ok {
				errs = append(errs, fmt.Errorf("business %q: topic_caps names topic %q, which flow %s does not declare", b.ID, topic, path))
			}
		}
		kw := make(map[string]flows.KeywordSet, len(b.Keywords))
		for lang, k := range b.Keywords {
			kw[lang] = flows.KeywordSet{OptOut: k.OptOut, OptIn: k.OptIn, Help: k.Help, Polite: k.Polite}
		}
		out = append(out, bot.BusinessConfig{ID: bot.BusinessID(b.ID), Flow: flow, Source: src,
			Senders: b.Senders, Keywords: kw, Caps: caps, NumberedSenders: c.numberedSenders(b)})
	}
	return out, errors.Join(errs...)
}

// consentWebhooks returns the targets of the businesses with a consent
// webhook.
func (c *Config) consentWebhooks() ([]consenthook.Target, error) {
	var out []consenthook.Target
	for _, b := range c.Business {
		if b.ConsentWebhook == nil {
			continue
		}
		secret, err := b.ConsentWebhook.secret(b.ID, c.dir)
		if err != nil {
			return nil, err
		}
		out = append(out, consenthook.Target{Business: bot.BusinessID(b.ID), URL: b.ConsentWebhook.URL, Secret: secret})
	}
	return out, nil
}
