package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/optinbot/optinbot/adapters/dialog360"
	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/meta"
	"github.com/optinbot/optinbot/adapters/sender"
	"github.com/optinbot/optinbot/adapters/twilio"
)

// WebhookServerConfig is the HTTP server the providers' webhooks reach.
type WebhookServerConfig struct {
	// Listen is the address of the webhook server; empty runs none.
	Listen string `yaml:"listen"`
	// MaxBody caps a webhook body, in bytes (default 1 MiB).
	MaxBody int64 `yaml:"max_body"`
}

// ProvidersConfig configures the provider adapters; an absent provider is
// not run.
type ProvidersConfig struct {
	Meta      *MetaConfig      `yaml:"meta"`
	Dialog360 *Dialog360Config `yaml:"dialog360"`
	Twilio    *TwilioConfig    `yaml:"twilio"`
}

// SendingConfig is what every provider's sender shares.
type SendingConfig struct {
	// Senders are the business addresses this provider sends for: its
	// outbound messages are consumed from NATS and sent through its API.
	Senders []string `yaml:"senders"`
	// RatePerSecond caps calls per sender (Meta's default throughput is 80).
	RatePerSecond float64 `yaml:"rate_per_second"`
}

// MetaConfig configures the WhatsApp Cloud API adapter (docs/adapters/meta.md).
type MetaConfig struct {
	SendingConfig `yaml:",inline"`
	AppSecret     string                `yaml:"app_secret"`
	VerifyToken   string                `yaml:"verify_token"`
	AccessToken   string                `yaml:"access_token"`
	BaseURL       string                `yaml:"base_url"`
	APIVersion    string                `yaml:"api_version"`
	DefaultSender string                `yaml:"default_sender"`
	Templates     []MetaTemplateMapping `yaml:"templates"`
}

// MetaTemplateMapping names a template as WhatsApp Manager approved it.
type MetaTemplateMapping struct {
	Template     string `yaml:"template"`
	Language     string `yaml:"language"`
	MetaName     string `yaml:"meta_name"`
	MetaLanguage string `yaml:"meta_language"`
}

// Dialog360Config configures the 360dialog adapter (docs/adapters/meta.md).
type Dialog360Config struct {
	SendingConfig `yaml:",inline"`
	WebhookSecret string                `yaml:"webhook_secret"`
	WebhookHeader string                `yaml:"webhook_header"`
	APIKey        string                `yaml:"api_key"`
	APIKeys       map[string]string     `yaml:"api_keys"`
	BaseURL       string                `yaml:"base_url"`
	Templates     []MetaTemplateMapping `yaml:"templates"`
}

// TwilioConfig configures the Twilio adapter (docs/adapters/twilio.md).
type TwilioConfig struct {
	SendingConfig     `yaml:",inline"`
	AccountSID        string                  `yaml:"account_sid"`
	AuthToken         string                  `yaml:"auth_token"`
	BaseURL           string                  `yaml:"base_url"`
	StatusCallbackURL string                  `yaml:"status_callback_url"`
	PublicURL         string                  `yaml:"public_url"`
	DefaultSender     string                  `yaml:"default_sender"`
	Templates         []TwilioTemplateMapping `yaml:"templates"`
}

// TwilioTemplateMapping names a template's Twilio Content SID.
type TwilioTemplateMapping struct {
	Template   string `yaml:"template"`
	Language   string `yaml:"language"`
	ContentSID string `yaml:"content_sid"`
}

// provider is one configured adapter: its webhook side and its send side.
type provider struct {
	name    string
	webhook interface {
		Name() string
		Verify(r *http.Request, body []byte) error
		Parse(body []byte, receivedAt time.Time) (envelope.Batch, error)
	}
	client  sender.Client
	sending SendingConfig
}

func metaTemplates(ms []MetaTemplateMapping) map[meta.TemplateKey]meta.TemplateRef {
	out := make(map[meta.TemplateKey]meta.TemplateRef, len(ms))
	for _, m := range ms {
		out[meta.TemplateKey{Name: m.Template, Language: m.Language}] = meta.TemplateRef{Name: m.MetaName, Language: m.MetaLanguage}
	}
	return out
}

// buildProviders constructs the configured adapters, reporting every
// problem at once.
func (c *Config) buildProviders(client *http.Client) (map[string]*provider, error) {
	out := map[string]*provider{}
	var errs []error
	if m := c.Providers.Meta; m != nil {
		a, err := meta.New(meta.Config{AppSecret: m.AppSecret, VerifyToken: m.VerifyToken, AccessToken: m.AccessToken,
			BaseURL: m.BaseURL, APIVersion: m.APIVersion, DefaultSender: m.DefaultSender, HTTPClient: client,
			Templates: metaTemplates(m.Templates)})
		if err != nil {
			errs = append(errs, fmt.Errorf("providers.meta: %w", err))
		} else {
			out[meta.Name] = &provider{name: meta.Name, webhook: a, client: a, sending: m.SendingConfig}
		}
	}
	if d := c.Providers.Dialog360; d != nil {
		a, err := dialog360.New(dialog360.Config{WebhookSecret: d.WebhookSecret, WebhookHeader: d.WebhookHeader,
			APIKey: d.APIKey, APIKeys: d.APIKeys, BaseURL: d.BaseURL, HTTPClient: client, Templates: metaTemplates(d.Templates)})
		if err != nil {
			errs = append(errs, fmt.Errorf("providers.dialog360: %w", err))
		} else {
			out[dialog360.Name] = &provider{name: dialog360.Name, webhook: a, client: a, sending: d.SendingConfig}
		}
	}
	if t := c.Providers.Twilio; t != nil {
		tpl := make(map[twilio.TemplateKey]string, len(t.Templates))
		for _, m := range t.Templates {
			tpl[twilio.TemplateKey{Name: m.Template, Language: m.Language}] = m.ContentSID
		}
		a, err := twilio.New(twilio.Config{AccountSID: t.AccountSID, AuthToken: t.AuthToken, BaseURL: t.BaseURL,
			HTTPClient: client, StatusCallbackURL: t.StatusCallbackURL, PublicURL: t.PublicURL,
			DefaultSender: t.DefaultSender, Templates: tpl})
		if err != nil {
			errs = append(errs, fmt.Errorf("providers.twilio: %w", err))
		} else {
			out[twilio.ProviderName] = &provider{name: twilio.ProviderName, webhook: a, client: a, sending: t.SendingConfig}
		}
	}
	return out, errors.Join(errs...)
}
