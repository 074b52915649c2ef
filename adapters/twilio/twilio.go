package twilio

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// ProviderName is the adapter's name: the provider field of its envelopes,
// and the Name of its webhook provider and sender client.
const ProviderName = "twilio"

// DefaultBaseURL is Twilio's REST API.
const DefaultBaseURL = "https://api.twilio.com"

// TemplateKey names one of our templates in one language: the name a flow
// declares (outbound_message.template) and the language it is sent in
// (outbound_message.language, may be empty).
type TemplateKey struct {
	Name     string
	Language string
}

func (k TemplateKey) String() string {
	if k.Language == "" {
		return k.Name
	}
	return k.Name + " (" + k.Language + ")"
}

// Config configures an Adapter.
type Config struct {
	// AccountSID is the Twilio account (AC…) that owns the WhatsApp
	// senders. Required.
	AccountSID string
	// AuthToken is the account's Auth Token: the password of the REST API
	// and the key Twilio signs webhooks with. Required. A secret: read it
	// from the environment.
	AuthToken string
	// BaseURL is the REST API's base, DefaultBaseURL when empty (tests
	// point it at an httptest.Server).
	BaseURL string
	// HTTPClient sends the REST requests; a client with a 30 s timeout when
	// nil.
	HTTPClient *http.Client
	// StatusCallbackURL, when set, is sent as StatusCallback with every
	// message, so Twilio posts its statuses there (the webhook URL of this
	// adapter). Empty: the sender's or Messaging Service's own status
	// callback setting applies.
	StatusCallbackURL string
	// Templates maps our template names (and languages) to the ContentSid
	// (HX…) of the Twilio Content template to send. A key with an empty
	// Language matches any language that has no entry of its own.
	Templates map[TemplateKey]string
	// DefaultSender is the address to send from when a message names none
	// (outbound_message.sender empty): a WhatsApp number "+14155550199" or
	// a Messaging Service SID "MG…". A status callback that names no
	// sender (neither From nor MessagingServiceSid) is reported for it.
	// Optional.
	DefaultSender string
	// PublicURL is the public base URL Twilio calls, scheme and host (and
	// the path prefix a reverse proxy strips, if any), e.g.
	// "https://bot.example.com". Set it when the URL this process sees
	// differs from the one Twilio called (a proxy that rewrites the Host):
	// signatures are then checked against PublicURL followed by the
	// request's path and query. Empty: the URL is rebuilt from the request
	// (X-Forwarded-Proto or TLS, Host, path and query).
	PublicURL string
}

// Adapter is the Twilio WhatsApp adapter: a webhook provider (Verify,
// Parse) and a sender client (Send). It is safe for concurrent use.
type Adapter struct {
	accountSID string
	authToken  string
	baseURL    string
	client     *http.Client
	statusCB   string
	templates  map[TemplateKey]string
	sender     string
	publicURL  string
}

var (
	accountSIDPattern = regexp.MustCompile(`^AC[0-9A-Za-z]{1,64}$`)
	serviceSIDPattern = regexp.MustCompile(`^MG[0-9A-Za-z]{1,64}$`)
)

// New checks cfg and returns an Adapter. Every problem is reported at
// once; the error never shows the Auth Token.
func New(cfg Config) (*Adapter, error) {
	var problems []error
	bad := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	if cfg.AccountSID == "" {
		bad("AccountSID is empty: want the account SID (AC…) from the Twilio console")
	} else if !accountSIDPattern.MatchString(cfg.AccountSID) {
		bad("AccountSID %q is not an account SID: want AC followed by letters and digits", clip(cfg.AccountSID, 40))
	}
	if cfg.AuthToken == "" {
		bad("AuthToken is empty: want the account's Auth Token (it signs the webhooks)")
	} else if strings.IndexFunc(cfg.AuthToken, unicode.IsSpace) >= 0 {
		bad("AuthToken contains white space (a stray newline from the environment?)")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if err := checkHTTPURL(base, true); err != nil {
		bad("BaseURL: %v", err)
	}
	if cfg.StatusCallbackURL != "" {
		if err := checkHTTPURL(cfg.StatusCallbackURL, false); err != nil {
			bad("StatusCallbackURL: %v", err)
		}
	}
	if cfg.PublicURL != "" {
		if err := checkHTTPURL(cfg.PublicURL, true); err != nil {
			bad("PublicURL: %v", err)
		}
	}
	if s := cfg.DefaultSender; s != "" && !serviceSIDPattern.MatchString(s) && !strings.HasPrefix(stripChannel(s), "+") {
		bad("DefaultSender %q: want a WhatsApp number like +14155550199 or a Messaging Service SID (MG…)", clip(s, 40))
	}
	templates := make(map[TemplateKey]string, len(cfg.Templates))
	keys := slices.SortedFunc(maps.Keys(cfg.Templates), func(a, b TemplateKey) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Language, b.Language))
	})
	for _, k := range keys {
		sid := cfg.Templates[k]
		switch {
		case k.Name == "":
			bad("Templates: a key has an empty template name")
		case sid == "" || strings.IndexFunc(sid, unicode.IsSpace) >= 0:
			bad("Templates[%s]: ContentSid %q: want the Content template's SID (HX…)", k, clip(sid, 40))
		}
		templates[k] = sid
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("twilio: bad config:\n%w", errors.Join(problems...))
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &Adapter{
		accountSID: cfg.AccountSID,
		authToken:  cfg.AuthToken,
		baseURL:    strings.TrimSuffix(base, "/"),
		client:     client,
		statusCB:   cfg.StatusCallbackURL,
		templates:  templates,
		sender:     cfg.DefaultSender,
		publicURL:  strings.TrimSuffix(cfg.PublicURL, "/"),
	}, nil
}

// Name is "twilio".
func (a *Adapter) Name() string { return ProviderName }

// checkHTTPURL accepts an absolute http or https URL; a base URL must have
// no query or fragment (a path is appended to it).
func checkHTTPURL(s string, base bool) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", clip(s, 60))
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q: want an absolute http:// or https:// URL", clip(s, 60))
	}
	if base && (u.RawQuery != "" || u.Fragment != "" || u.ForceQuery) {
		return fmt.Errorf("%q: want no query or fragment (the request's path and query are appended)", clip(s, 60))
	}
	return nil
}

// stripChannel removes Twilio's "whatsapp:" channel prefix of an address.
func stripChannel(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= len(channelPrefix) && strings.EqualFold(s[:len(channelPrefix)], channelPrefix) {
		return s[len(channelPrefix):]
	}
	return s
}

// withChannel adds the "whatsapp:" prefix to an address that lacks it.
func withChannel(s string) string { return channelPrefix + stripChannel(s) }

const channelPrefix = "whatsapp:"

// clip shortens a value quoted in an error.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// emptyTwiML is the answer to a webhook: TwiML that does nothing (the
// engine replies through the API, not in the webhook's answer).
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// Acknowledge writes the 200 answer to a webhook Twilio expects: an empty
// TwiML document, so Twilio neither replies on its own nor logs a warning.
func (a *Adapter) Acknowledge(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(emptyTwiML))
}
