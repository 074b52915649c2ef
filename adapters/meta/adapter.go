package meta

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// Name is the adapter's provider name, in envelopes and logs.
const Name = "meta"

// Defaults of Config.
const (
	DefaultBaseURL    = "https://graph.facebook.com"
	DefaultAPIVersion = "v21.0"
	DefaultTimeout    = 30 * time.Second
)

// TemplateKey is a template as optinbot's flows name it: the template's
// name and language ("en", "pt_BR"). An empty Language matches any
// language the flow uses.
type TemplateKey struct {
	Name     string
	Language string
}

// TemplateRef is the template approved in Meta's WhatsApp Manager: its name
// and language code. An empty Language keeps the outbound message's.
type TemplateRef struct {
	Name     string
	Language string
}

// Config configures an Adapter. Each secret is needed only by the part that
// uses it, and that part fails closed without it: Verify rejects every
// request without AppSecret, Handshake answers 403 without VerifyToken, Send
// refuses to send without AccessToken.
type Config struct {
	// AppSecret is the Meta app's secret (App settings > Basic): the key of
	// the X-Hub-Signature-256 HMAC on every webhook.
	AppSecret string
	// VerifyToken is the string you type as "Verify token" when you set the
	// app's webhook callback URL; Meta echoes it in the GET handshake.
	VerifyToken string
	// AccessToken is a system user's permanent token with the
	// whatsapp_business_messaging permission, for the send API.
	AccessToken string
	// DefaultSender is the phone_number_id to send from when an outbound
	// message names no sender. Optional.
	DefaultSender string
	// BaseURL is the Graph API's origin, DefaultBaseURL when empty (tests
	// point it at an httptest server).
	BaseURL string
	// APIVersion is the Graph API version of the send path, DefaultAPIVersion
	// when empty.
	APIVersion string
	// HTTPClient sends the API requests; a client with DefaultTimeout when
	// nil.
	HTTPClient *http.Client
	// Templates maps optinbot's template names (and languages) to Meta's,
	// when they differ. A template not in the map is sent under its own
	// name and language.
	Templates map[TemplateKey]TemplateRef
	// Now is the clock (for Retry-After dates); time.Now when nil.
	Now func() time.Time
}

// Adapter is the WhatsApp Cloud API adapter: a webhook provider (Verify,
// Parse, Handshake) and a send client (Send). Safe for concurrent use.
type Adapter struct {
	cfg     Config
	baseURL string
}

var apiVersionRe = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// New checks the configuration and fills its defaults.
func New(cfg Config) (*Adapter, error) {
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	if !apiVersionRe.MatchString(cfg.APIVersion) {
		return nil, fmt.Errorf("meta: APIVersion %q: want a Graph API version like %s", cfg.APIVersion, DefaultAPIVersion)
	}
	base, err := CheckBaseURL(cfg.BaseURL, DefaultBaseURL)
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	if cfg.DefaultSender != "" && !allDigits(cfg.DefaultSender) {
		return nil, fmt.Errorf("meta: DefaultSender %q: want a phone_number_id (digits)", cfg.DefaultSender)
	}
	if err := CheckTemplates(cfg.Templates); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Adapter{cfg: cfg, baseURL: base}, nil
}

// CheckBaseURL validates an API origin (def when empty) and returns it
// without a trailing slash.
func CheckBaseURL(raw, def string) (string, error) {
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("BaseURL %q: want an absolute http(s) URL without query, like %s", raw, def)
	}
	return strings.TrimRight(raw, "/"), nil
}

// CheckTemplates validates a template map: every key and reference names a
// template.
func CheckTemplates(t map[TemplateKey]TemplateRef) error {
	var errs []error
	for k, ref := range t {
		if k.Name == "" {
			errs = append(errs, fmt.Errorf("Templates: a key has an empty template name (language %q)", k.Language))
		}
		if ref.Name == "" {
			errs = append(errs, fmt.Errorf("Templates[%s/%s]: empty Meta template name", k.Name, k.Language))
		}
	}
	return errors.Join(errs...)
}

// Name returns "meta".
func (a *Adapter) Name() string { return Name }

// Parse normalises a webhook body: see ParseBody.
func (a *Adapter) Parse(body []byte, receivedAt time.Time) (envelope.Batch, error) {
	return ParseBody(Name, body, receivedAt)
}
