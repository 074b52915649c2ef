package dialog360

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/meta"
)

// Name is the adapter's provider name, in envelopes and logs.
const Name = "dialog360"

// Defaults of Config.
const (
	DefaultBaseURL       = "https://waba-v2.360dialog.io"
	DefaultWebhookHeader = "X-Optinbot-Webhook-Secret"
	// APIKeyHeader carries the channel's API key on every send.
	APIKeyHeader = "D360-API-KEY"
)

// Config configures an Adapter. Like meta.Config, each part fails closed
// without its secret: Verify refuses every webhook without WebhookSecret,
// Send refuses to send without an API key for the sender.
type Config struct {
	// WebhookSecret is a long random string you choose and set as the value
	// of the WebhookHeader header when you register the webhook URL with
	// 360dialog.
	WebhookSecret string
	// WebhookHeader names that header, DefaultWebhookHeader when empty.
	WebhookHeader string
	// APIKey is the channel's 360dialog API key (D360-API-KEY).
	APIKey string
	// APIKeys are the API keys of several channels, by phone_number_id
	// (the sender of the outbound message); APIKey serves the others.
	APIKeys map[string]string
	// BaseURL is the API's origin, DefaultBaseURL when empty.
	BaseURL string
	// HTTPClient sends the API requests; a client with meta.DefaultTimeout
	// when nil.
	HTTPClient *http.Client
	// Templates maps optinbot's template names to the approved ones, as in
	// meta.Config.
	Templates map[meta.TemplateKey]meta.TemplateRef
	// Now is the clock (for Retry-After dates); time.Now when nil.
	Now func() time.Time
}

// Adapter is the 360dialog adapter: a webhook provider (Verify, Parse) and
// a send client (Send). Safe for concurrent use.
type Adapter struct {
	cfg      Config
	endpoint string
}

// New checks the configuration and fills its defaults.
func New(cfg Config) (*Adapter, error) {
	if cfg.WebhookHeader == "" {
		cfg.WebhookHeader = DefaultWebhookHeader
	}
	if !validHeaderName(cfg.WebhookHeader) {
		return nil, fmt.Errorf("dialog360: WebhookHeader %q is not an HTTP header name", cfg.WebhookHeader)
	}
	cfg.WebhookHeader = textproto.CanonicalMIMEHeaderKey(cfg.WebhookHeader)
	base, err := meta.CheckBaseURL(cfg.BaseURL, DefaultBaseURL)
	if err != nil {
		return nil, fmt.Errorf("dialog360: %w", err)
	}
	for sender, key := range cfg.APIKeys {
		if sender == "" || key == "" {
			return nil, fmt.Errorf("dialog360: APIKeys: an entry has an empty sender or key (sender %q)", sender)
		}
	}
	if err := meta.CheckTemplates(cfg.Templates); err != nil {
		return nil, fmt.Errorf("dialog360: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: meta.DefaultTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Adapter{cfg: cfg, endpoint: base + "/messages"}, nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// Name returns "dialog360".
func (a *Adapter) Name() string { return Name }

// Verify authenticates a webhook POST by its secret header, compared in
// constant time. The error wraps envelope.ErrUnauthorized and quotes
// neither the body nor the header's value.
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	return CheckSecret(a.cfg.WebhookSecret, a.cfg.WebhookHeader, r.Header.Values(a.cfg.WebhookHeader))
}

// CheckSecret checks the values a request carries in header against the
// configured secret: exactly one value, equal to it.
func CheckSecret(secret, header string, values []string) error {
	switch {
	case secret == "":
		return fmt.Errorf("dialog360: %w: no webhook secret configured, so no webhook can be verified", envelope.ErrUnauthorized)
	case len(values) == 0:
		return fmt.Errorf("dialog360: %w: %s header is missing", envelope.ErrUnauthorized, header)
	case len(values) > 1:
		return fmt.Errorf("dialog360: %w: %s header is repeated", envelope.ErrUnauthorized, header)
	case !meta.EqualSecret(secret, values[0]):
		return fmt.Errorf("dialog360: %w: %s header does not match the configured secret", envelope.ErrUnauthorized, header)
	}
	return nil
}

// Parse normalises a webhook body, Meta's payload as 360dialog forwards it:
// see meta.ParseBody.
func (a *Adapter) Parse(body []byte, receivedAt time.Time) (envelope.Batch, error) {
	return meta.ParseBody(Name, body, receivedAt)
}

// Send delivers one outbound message with POST {BaseURL}/messages and the
// sender's API key, and returns the message id. The body is Meta's (see
// meta.MessageBody); refusals are classified as for Meta, as
// *envelope.SendError; a cancelled ctx is returned as is.
func (a *Adapter) Send(ctx context.Context, m envelope.OutboundMessage) (string, error) {
	key := a.cfg.APIKeys[m.Sender]
	if key == "" {
		key = a.cfg.APIKey
	}
	if key == "" {
		return "", &envelope.SendError{Provider: Name, Code: meta.CodeNotConfigured,
			Message: fmt.Sprintf("no API key configured for sender %q", m.Sender)}
	}
	body, err := meta.MessageBody(Name, m, a.cfg.Templates)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", &envelope.SendError{Provider: Name, Code: meta.CodeInvalidMessage, Message: err.Error()}
	}
	req.Header.Set(APIKeyHeader, key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", meta.TransportError(ctx, Name, err)
	}
	return meta.ReadResponse(Name, resp, a.cfg.Now())
}
