package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// Limits of interactive reply-button messages.
const (
	MaxButtons     = 3
	MaxButtonTitle = 20  // characters
	MaxButtonID    = 256 // bytes
)

// maxResponse bounds how much of an API response is read.
const maxResponse = 1 << 20

// The codes of the SendError for problems found before any request is made.
const (
	CodeInvalidMessage = "invalid_message" // the outbound message cannot be expressed as a Cloud API request
	CodeNotConfigured  = "not_configured"  // a credential or the sender is missing
	CodeTransport      = "transport"       // the request failed before an answer (retryable)
	CodeBadResponse    = "bad_response"    // a success answer without a message id
)

// Send delivers one outbound message with POST
// {BaseURL}/{APIVersion}/{phone_number_id}/messages and returns Meta's
// message id (wamid…). m.Sender is the phone_number_id (DefaultSender when
// empty). Refusals are *envelope.SendError (Retryable for throttling and
// server errors, with the Signal of 131047, 131026, 131049 and 131050); a
// cancelled ctx is returned as is.
func (a *Adapter) Send(ctx context.Context, m envelope.OutboundMessage) (string, error) {
	sender := m.Sender
	if sender == "" {
		sender = a.cfg.DefaultSender
	}
	switch {
	case a.cfg.AccessToken == "":
		return "", &envelope.SendError{Provider: Name, Code: CodeNotConfigured, Message: "no access token configured"}
	case sender == "":
		return "", &envelope.SendError{Provider: Name, Code: CodeNotConfigured, Message: "the message names no sender and no DefaultSender is configured"}
	case !allDigits(sender):
		return "", &envelope.SendError{Provider: Name, Code: CodeInvalidMessage, Message: fmt.Sprintf("sender %q is not a phone_number_id", clip(sender, 40))}
	}
	body, err := MessageBody(Name, m, a.cfg.Templates)
	if err != nil {
		return "", err
	}
	endpoint := a.baseURL + "/" + a.cfg.APIVersion + "/" + url.PathEscape(sender) + "/messages"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "", &envelope.SendError{Provider: Name, Code: CodeInvalidMessage, Message: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+a.cfg.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", TransportError(ctx, Name, err)
	}
	return ReadResponse(Name, resp, a.cfg.Now())
}

// TransportError classifies a failed HTTP round trip: the context's own
// error when ctx is done (the caller is shutting down), otherwise a
// retryable *envelope.SendError.
func TransportError(ctx context.Context, provider string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: send: %w", provider, ctx.Err())
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Op + " request: " + ue.Err.Error()
	}
	return &envelope.SendError{Provider: provider, Code: CodeTransport, Message: msg, Retryable: true}
}

// invalid is a problem of the message itself: a permanent SendError once
// the provider is known.
type invalid struct{ msg string }

func (e *invalid) Error() string { return e.msg }

func invalidf(format string, args ...any) error { return &invalid{fmt.Sprintf(format, args...)} }

func sendErr(provider string, err error) error {
	var inv *invalid
	if errors.As(err, &inv) {
		return &envelope.SendError{Provider: provider, Code: CodeInvalidMessage, Message: inv.msg}
	}
	return &envelope.SendError{Provider: provider, Code: CodeInvalidMessage, Message: err.Error()}
}

// The request body, in Meta's field order.
type request struct {
	MessagingProduct string        `json:"messaging_product"`
	RecipientType    string        `json:"recipient_type"`
	To               string        `json:"to,omitempty"`
	Recipient        string        `json:"recipient,omitempty"`
	Type             string        `json:"type"`
	Text             *textBody     `json:"text,omitempty"`
	Interactive      *interactive  `json:"interactive,omitempty"`
	Template         *templateBody `json:"template,omitempty"`
	BizOpaque        string        `json:"biz_opaque_callback_data,omitempty"`
}

type textBody struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url"`
}

type interactive struct {
	Type string `json:"type"`
	Body struct {
		Text string `json:"text"`
	} `json:"body"`
	Action struct {
		Buttons  []replyButton `json:"buttons,omitempty"`
		Button   string        `json:"button,omitempty"`   // list: the label opening it
		Sections []listSection `json:"sections,omitempty"` // list
	} `json:"action"`
}

type listSection struct {
	Rows []listRow `json:"rows"`
}

type listRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Limits of interactive list messages.
const (
	MaxListRows        = 10
	MaxListRowTitle    = 24
	MaxListRowDesc     = 72
	MaxListButtonLabel = 20
)

func listMessage(text string, l *envelope.List) (*interactive, error) {
	if len(l.Rows) == 0 || len(l.Rows) > MaxListRows {
		return nil, invalidf("a list with %d rows: WhatsApp allows 1 to %d", len(l.Rows), MaxListRows)
	}
	if n := utf8.RuneCountInString(l.Button); l.Button == "" || n > MaxListButtonLabel {
		return nil, invalidf("list button label of %d characters: WhatsApp allows 1 to %d", n, MaxListButtonLabel)
	}
	in := &interactive{Type: "list"}
	in.Body.Text = text
	in.Action.Button = l.Button
	sec := listSection{}
	seen := map[string]bool{}
	for i, r := range l.Rows {
		switch {
		case r.ID == "" || r.Title == "":
			return nil, invalidf("list row %d needs an id and a title", i+1)
		case utf8.RuneCountInString(r.Title) > MaxListRowTitle:
			return nil, invalidf("list row %d title is over %d characters", i+1, MaxListRowTitle)
		case utf8.RuneCountInString(r.Description) > MaxListRowDesc:
			return nil, invalidf("list row %d description is over %d characters", i+1, MaxListRowDesc)
		case seen[r.ID]:
			return nil, invalidf("list row %d repeats id %q", i+1, clip(r.ID, 40))
		}
		seen[r.ID] = true
		sec.Rows = append(sec.Rows, listRow{ID: r.ID, Title: r.Title, Description: r.Description})
	}
	in.Action.Sections = []listSection{sec}
	return in, nil
}

type replyButton struct {
	Type  string `json:"type"`
	Reply struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"reply"`
}

type templateBody struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []component `json:"components,omitempty"`
}

type component struct {
	Type string `json:"type"`
	// SubType and Index name a button component's button.
	SubType    string      `json:"sub_type,omitempty"`
	Index      string      `json:"index,omitempty"`
	Parameters []parameter `json:"parameters"`
}

type parameter struct {
	Type          string `json:"type"`
	ParameterName string `json:"parameter_name,omitempty"`
	Text          string `json:"text"`
}

// maxOpaque is the longest biz_opaque_callback_data Meta accepts.
const maxOpaque = 512

// MessageBody encodes an outbound message as a Cloud API send request
// body (the same for Meta and 360dialog):
//
//   - kind text without buttons: a text message, link previews off;
//   - kind text with buttons: an interactive message with up to 3 reply
//     buttons;
//   - kind template: the template (renamed through templates) in its
//     language, its parameters as the body component: keys "1", "2"… as
//     positional text parameters in order, other keys as named ones. An
//     authentication template's one parameter, the code, also fills its
//     copy-code button (a button component, sub_type url, index 0).
//
// The recipient is "to" (digits, no "+") for a phone number and
// "recipient" for a WhatsApp user id. The message's id rides along as
// biz_opaque_callback_data, which Meta echoes in the statuses (it becomes
// DeliveryStatus.OutboundID). The error is a permanent *envelope.SendError
// of provider, with Code CodeInvalidMessage: a problem of the message.
func MessageBody(provider string, m envelope.OutboundMessage, templates map[TemplateKey]TemplateRef) ([]byte, error) {
	body, err := messageBody(m, templates)
	if err != nil {
		return nil, sendErr(provider, err)
	}
	return body, nil
}

func messageBody(m envelope.OutboundMessage, templates map[TemplateKey]TemplateRef) ([]byte, error) {
	req := request{MessagingProduct: "whatsapp", RecipientType: "individual"}
	to := bot.CustomerID(m.To)
	switch {
	case to == "":
		return nil, invalidf("no recipient")
	case to.IsUserID():
		req.Recipient = string(to)
	default:
		digits := strings.TrimPrefix(string(to), "+")
		if !allDigits(digits) {
			return nil, invalidf("recipient %s is not a phone number or a user id", to.Redacted())
		}
		req.To = digits
	}
	if len(m.ID) <= maxOpaque && !strings.ContainsFunc(m.ID, isControl) {
		req.BizOpaque = m.ID
	}
	switch m.Kind {
	case bot.KindText:
		if m.Text == "" {
			return nil, invalidf("a text message without text")
		}
		if m.List != nil {
			in, err := listMessage(m.Text, m.List)
			if err != nil {
				return nil, err
			}
			req.Type, req.Interactive = "interactive", in
			break
		}
		if len(m.Buttons) == 0 {
			req.Type = "text"
			req.Text = &textBody{Body: m.Text}
			break
		}
		in, err := buttons(m.Text, m.Buttons)
		if err != nil {
			return nil, err
		}
		req.Type = "interactive"
		req.Interactive = in
	case bot.KindTemplate:
		t, err := template(m, templates)
		if err != nil {
			return nil, err
		}
		req.Type = "template"
		req.Template = t
	default:
		return nil, invalidf("kind %q is not text or template", clip(string(m.Kind), 20))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(req); err != nil {
		return nil, invalidf("encoding the request: %v", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func buttons(text string, bs []envelope.Button) (*interactive, error) {
	if len(bs) > MaxButtons {
		return nil, invalidf("%d buttons: WhatsApp allows at most %d reply buttons", len(bs), MaxButtons)
	}
	in := &interactive{Type: "button"}
	in.Body.Text = text
	seen := make(map[string]bool)
	for i, b := range bs {
		switch n := utf8.RuneCountInString(b.Title); {
		case b.ID == "" || b.Title == "":
			return nil, invalidf("button %d needs an id and a title", i+1)
		case n > MaxButtonTitle:
			return nil, invalidf("button %d title has %d characters: WhatsApp allows %d", i+1, n, MaxButtonTitle)
		case len(b.ID) > MaxButtonID:
			return nil, invalidf("button %d id has %d bytes: WhatsApp allows %d", i+1, len(b.ID), MaxButtonID)
		case seen[b.ID]:
			return nil, invalidf("button %d repeats id %q: ids must be unique", i+1, clip(b.ID, 40))
		}
		seen[b.ID] = true
		rb := replyButton{Type: "reply"}
		rb.Reply.ID, rb.Reply.Title = b.ID, b.Title
		in.Action.Buttons = append(in.Action.Buttons, rb)
	}
	return in, nil
}

// ResolveTemplate finds Meta's name and language for a template: the exact
// (name, language) key, then (name, "") for any language, else the
// template's own name and language.
func ResolveTemplate(templates map[TemplateKey]TemplateRef, name, language string) TemplateRef {
	ref, ok := templates[TemplateKey{Name: name, Language: language}]
	if !ok {
		ref, ok = templates[TemplateKey{Name: name}]
	}
	if !ok {
		ref = TemplateRef{Name: name}
	}
	if ref.Language == "" {
		ref.Language = language
	}
	return ref
}

func template(m envelope.OutboundMessage, templates map[TemplateKey]TemplateRef) (*templateBody, error) {
	if m.Template == "" {
		return nil, invalidf("a template message without a template name")
	}
	ref := ResolveTemplate(templates, m.Template, m.Language)
	if ref.Language == "" {
		return nil, invalidf("template %q has no language: the message names none and Templates maps none", clip(m.Template, 60))
	}
	t := &templateBody{Name: ref.Name}
	t.Language.Code = ref.Language
	params, err := parameters(m.Params)
	if err != nil {
		return nil, err
	}
	if len(params) > 0 {
		t.Components = []component{{Type: "body", Parameters: params}}
	}
	if m.Category == flows.CategoryAuthentication {
		// Meta's authentication templates carry the one-time code twice:
		// in the body and as the parameter of the copy-code (or one-tap)
		// button, which Meta stores as a URL button at index 0.
		code, ok := m.Params["1"]
		if !ok || len(m.Params) != 1 {
			return nil, invalidf("authentication template %q takes exactly one parameter, \"1\", the code", clip(m.Template, 60))
		}
		t.Components = append(t.Components, component{Type: "button", SubType: "url", Index: "0",
			Parameters: []parameter{{Type: "text", Text: code}}})
	}
	return t, nil
}

// parameters turns template variables into body parameters: keys "1",
// "2"… are positional, in numeric order, and must run from 1 without gaps;
// any other keys are named parameters, in name order. A template uses one
// style, so mixing them is an error.
func parameters(vars map[string]string) ([]parameter, error) {
	if len(vars) == 0 {
		return nil, nil
	}
	var positional []int
	var named []string
	for k := range vars {
		if !allDigits(k) {
			named = append(named, k)
			continue
		}
		n, err := strconv.Atoi(k)
		if err != nil || n < 1 || strconv.Itoa(n) != k {
			return nil, invalidf("template parameter key %q: positional keys are 1, 2, 3…", clip(k, 20))
		}
		positional = append(positional, n)
	}
	if len(positional) > 0 && len(named) > 0 {
		return nil, invalidf("template parameters mix positional (\"1\", \"2\"…) and named (%q…) keys: a template uses one style", clip(named[0], 40))
	}
	var out []parameter
	if len(positional) > 0 {
		sort.Ints(positional)
		for i, n := range positional {
			if n != i+1 {
				return nil, invalidf("template parameters %d to %d: positional keys must run 1, 2, 3… without gaps (parameter %d is missing)", positional[0], positional[len(positional)-1], i+1)
			}
			out = append(out, parameter{Type: "text", Text: vars[strconv.Itoa(n)]})
		}
		return out, nil
	}
	sort.Strings(named)
	for _, k := range named {
		if k == "" {
			return nil, invalidf("a template parameter has an empty name")
		}
		out = append(out, parameter{Type: "text", ParameterName: k, Text: vars[k]})
	}
	return out, nil
}

// The response shapes.
type response struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
	Error *struct {
		Message      string `json:"message"`
		Type         string `json:"type"`
		Code         scalar `json:"code"`
		ErrorSubcode scalar `json:"error_subcode"`
		IsTransient  bool   `json:"is_transient"`
		ErrorData    struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"error"`
	// The On-Premise API's shape, which 360dialog's gateway may still use.
	Errors []struct {
		Code    scalar `json:"code"`
		Title   string `json:"title"`
		Details string `json:"details"`
	} `json:"errors"`
	// 360dialog's own errors (authentication, its gateway).
	Meta *struct {
		HTTPCode         int    `json:"http_code"`
		DeveloperMessage string `json:"developer_message"`
	} `json:"meta"`
}

// RetryableCodes are the Cloud API error codes worth retrying later:
// application, account, throughput, spam and pair rate limits.
var RetryableCodes = map[string]bool{"4": true, "80007": true, "130429": true, "131048": true, "131056": true}

// ReadResponse reads (and closes) a send API response: the message id of a
// 2xx answer, or the *envelope.SendError of any other. now resolves a
// Retry-After date.
func ReadResponse(provider string, resp *http.Response, now time.Time) (string, error) {
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	var r response
	parsed := readErr == nil && json.Unmarshal(data, &r) == nil
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if parsed && len(r.Messages) > 0 && r.Messages[0].ID != "" {
			return r.Messages[0].ID, nil
		}
		// The message was probably accepted: retrying could send it twice.
		return "", &envelope.SendError{Provider: provider, Code: CodeBadResponse, HTTPStatus: resp.StatusCode,
			Message: "the API answered success without a message id"}
	}
	e := &envelope.SendError{Provider: provider, HTTPStatus: resp.StatusCode}
	transient := false
	switch {
	case parsed && r.Error != nil:
		e.Code = string(r.Error.Code)
		e.Message = r.Error.Message
		if d := r.Error.ErrorData.Details; d != "" && d != e.Message {
			e.Message = joinMsg(e.Message, d)
		}
		if r.Error.ErrorSubcode != "" {
			e.Message = joinMsg(e.Message, "subcode "+string(r.Error.ErrorSubcode))
		}
		transient = r.Error.IsTransient
	case parsed && len(r.Errors) > 0:
		e.Code = string(r.Errors[0].Code)
		e.Message = r.Errors[0].Title
		if d := r.Errors[0].Details; d != "" && d != e.Message {
			e.Message = joinMsg(e.Message, d)
		}
	case parsed && r.Meta != nil && r.Meta.DeveloperMessage != "":
		e.Message = r.Meta.DeveloperMessage
	}
	if e.Code == "" {
		e.Code = "http_" + strconv.Itoa(resp.StatusCode)
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	e.Message = clip(e.Message, 500)
	e.Signal = Signal(e.Code)
	if e.Signal == "" {
		e.Retryable = resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
			resp.StatusCode == http.StatusRequestTimeout || RetryableCodes[e.Code] || transient
	}
	if e.Retryable {
		e.RetryAfter = RetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return "", e
}

func joinMsg(a, b string) string {
	if a == "" {
		return b
	}
	return a + ": " + b
}

// RetryAfter reads a Retry-After header: seconds or an HTTP date. Zero when
// absent, unreadable or past.
func RetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}
