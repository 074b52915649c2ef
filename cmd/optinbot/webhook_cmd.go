package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/adapters/dialog360"
	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/meta"
	"github.com/optinbot/optinbot/adapters/twilio"
	"github.com/optinbot/optinbot/adapters/webhook"
)

var errWebhookParse = errors.New("a webhook body did not parse or verify")

func newWebhookCmd() *cobra.Command {
	root := &cobra.Command{Use: "webhook", Short: "Debugging aids for provider webhooks and the businesses' consent webhooks"}
	root.AddCommand(newWebhookTestCmd())
	var provider, secret, signature, url, receivedAt string
	parse := &cobra.Command{
		Use:   "parse --provider meta|dialog360|twilio FILE…",
		Short: "Print the normalised envelopes of recorded webhook bodies",
		Long: `parse reads recorded webhook bodies and prints, as JSON lines, the
envelopes optinbot would publish: one per message, status or event,
duplicates within a body once; an item that cannot be normalised prints as
its dead letter with an "error" field. With --secret and --signature (and
--url for Twilio) it also checks the signature: Meta's X-Hub-Signature-256,
360dialog's secret header, Twilio's X-Twilio-Signature. Exit 1 if a body
does not parse or a signature does not hold.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			p, sign, err := debugProvider(provider, secret, signature, url)
			if err != nil {
				return err
			}
			received := time.Now().UTC()
			if receivedAt != "" {
				if received, err = time.Parse(time.RFC3339, receivedAt); err != nil {
					return fmt.Errorf("--received-at %q: want RFC 3339 like 2026-01-01T09:30:00Z: %w", receivedAt, err)
				}
			}
			failed := false
			out := json.NewEncoder(cmd.OutOrStdout())
			out.SetEscapeHTML(false)
			for _, file := range files {
				body, err := os.ReadFile(file)
				if err != nil {
					return err
				}
				if sign != nil {
					if err := p.Verify(sign(body), body); err != nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: signature does not hold: %v\n", file, err)
						failed = true
					} else {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: signature holds\n", file)
					}
				}
				batch, err := p.Parse(body, received)
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", file, err)
					failed = true
					continue
				}
				for _, line := range batchLines(batch) {
					if err := out.Encode(line); err != nil {
						return err
					}
				}
			}
			if failed {
				return &exitError{code: 1, err: errWebhookParse}
			}
			return nil
		},
	}
	parse.Flags().StringVar(&provider, "provider", "", "meta, dialog360 or twilio (required)")
	parse.Flags().StringVar(&secret, "secret", "", "Meta app secret, 360dialog webhook secret or Twilio auth token")
	parse.Flags().StringVar(&signature, "signature", "", "the signature header's value as received")
	parse.Flags().StringVar(&url, "url", "", "Twilio: the full URL Twilio posted to")
	parse.Flags().StringVar(&receivedAt, "received-at", "", "the time the body arrived, RFC 3339 (default now): stamps dead letters and Twilio messages")
	root.AddCommand(parse)
	return root
}

// debugProvider builds the provider with the secret to check against, and,
// when a signature is given, a function making the request it came with.
func debugProvider(name, secret, signature, url string) (webhook.Provider, func([]byte) *http.Request, error) {
	if (secret == "") != (signature == "") {
		return nil, nil, errors.New("--secret and --signature go together")
	}
	var p webhook.Provider
	var header string
	contentType := "application/json"
	var err error
	switch name {
	case meta.Name:
		p, err = meta.New(meta.Config{AppSecret: secret})
		header = "X-Hub-Signature-256"
	case dialog360.Name:
		var a *dialog360.Adapter
		a, err = dialog360.New(dialog360.Config{WebhookSecret: secret})
		p, header = a, dialog360.DefaultWebhookHeader
	case twilio.ProviderName:
		if signature != "" && url == "" {
			return nil, nil, errors.New("twilio signs the full URL it posted to: give --url")
		}
		p, err = twilio.New(twilio.Config{AccountSID: "AC00000000000000000000000000000000", AuthToken: orDefaultString(secret, "unused")})
		header, contentType = twilio.SignatureHeader, "application/x-www-form-urlencoded"
	default:
		return nil, nil, fmt.Errorf("--provider %q: want meta, dialog360 or twilio", name)
	}
	if err != nil {
		return nil, nil, err
	}
	if signature == "" {
		return p, nil, nil
	}
	if url == "" {
		url = "https://optinbot.invalid" + webhookPath(name)
	}
	return p, func(body []byte) *http.Request {
		r := httptest.NewRequest(http.MethodPost, url, io.NopCloser(bytes.NewReader(body)))
		r.Header.Set(header, signature)
		r.Header.Set("Content-Type", contentType)
		return r
	}, nil
}

func orDefaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// batchLines are the batch's envelopes as printed: each once, dead letters
// with an "error" field.
func batchLines(b envelope.Batch) []any {
	var out []any
	seen := map[string]bool{}
	add := func(id string, v any) {
		if !seen[id] {
			seen[id] = true
			out = append(out, v)
		}
	}
	for _, m := range b.Inbound {
		add(m.MsgID(), m)
	}
	for _, s := range b.Statuses {
		add(s.MsgID(), s)
	}
	for _, s := range b.Signals {
		add(s.MsgID(), s)
	}
	for _, e := range b.Events {
		add(e.MsgID(), e)
	}
	for _, d := range b.DeadLetters {
		data, err := d.MarshalJSON()
		line := map[string]any{}
		if err == nil && json.Unmarshal(data, &line) == nil {
			line["error"] = d.Reason
			add(d.MsgID(), line)
		} else {
			add(d.MsgID(), map[string]any{"error": strings.TrimSpace(d.Reason)})
		}
	}
	return out
}
