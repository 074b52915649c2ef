package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
)

// The codes of the SendErrors found without an answer from Twilio (the
// same as the other adapters').
const (
	CodeInvalidMessage = "invalid_message" // the outbound message is not valid
	CodeNotConfigured  = "not_configured"  // no sender, or no ContentSid for the template
	CodeTransport      = "transport"       // the request failed before an answer (retryable)
	CodeBadResponse    = "bad_response"    // a success answer without a message sid
)

// Send sends an outbound message through Twilio's Messages API and returns
// the message's SID (SM…):
//
//	POST {BaseURL}/2010-04-01/Accounts/{AccountSID}/Messages.json
//
// with basic auth AccountSID:AuthToken and the form fields
//
//	From            whatsapp:<sender>   (MessagingServiceSid=<sender> for an MG… sender)
//	To              whatsapp:<to>
//	Body            text messages: the text, and the buttons as numbered lines
//	ContentSid      templates: the Content template configured for the template and language
//	ContentVariables templates with params: a JSON object of them
//	StatusCallback  when Config.StatusCallbackURL is set
//
// Quick-reply buttons need a Content template on Twilio, so a text
// message's buttons are sent as numbered lines after the text ("1) Yes");
// the customer answers with the digit or the words.
//
// Every refusal is an *envelope.SendError: Retryable for HTTP 5xx, 429, 408,
// Twilio codes 20429 and 63018 (with RetryAfter from Retry-After), and a
// request that never got an answer; Signal window_closed for 63016 and
// opted_out for 21610; anything else is permanent. A message that cannot be
// sent as configured (an unknown template, no sender) is a permanent
// SendError (CodeNotConfigured) without a request. A cancelled ctx returns
// ctx's error, wrapped.
func (a *Adapter) Send(ctx context.Context, m envelope.OutboundMessage) (string, error) {
	form, err := a.form(m)
	if err != nil {
		return "", err
	}
	endpoint := a.baseURL + "/2010-04-01/Accounts/" + url.PathEscape(a.accountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", permanent(CodeInvalidMessage, "cannot build the request: %v", err)
	}
	req.SetBasicAuth(a.accountSID, a.authToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("twilio: send: %w", ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is known; keep the cause
		}
		return "", &envelope.SendError{Provider: ProviderName, Code: CodeTransport, Message: err.Error(), Retryable: true}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil && resp.StatusCode/100 != 2 {
		return "", &envelope.SendError{Provider: ProviderName, Code: CodeTransport, Message: "reading the answer: " + err.Error(),
			HTTPStatus: resp.StatusCode, Retryable: true}
	}
	if resp.StatusCode/100 == 2 {
		var ok struct {
			SID string `json:"sid"`
		}
		if json.Unmarshal(data, &ok) != nil || ok.SID == "" {
			// Twilio took the message but the answer is unreadable:
			// retrying could send it twice.
			return "", &envelope.SendError{Provider: ProviderName, Code: CodeBadResponse,
				Message: "the answer has no message sid", HTTPStatus: resp.StatusCode}
		}
		return ok.SID, nil
	}
	return "", apiError(resp, data)
}

// form builds the Messages API form of a message.
func (a *Adapter) form(m envelope.OutboundMessage) (url.Values, error) {
	if err := m.Validate(); err != nil {
		return nil, permanent(CodeInvalidMessage, "%v", err)
	}
	form := url.Values{}
	sender := m.Sender
	if sender == "" {
		sender = a.sender
	}
	switch {
	case sender == "":
		return nil, permanent(CodeNotConfigured, "the message names no sender and no DefaultSender is configured")
	case serviceSIDPattern.MatchString(sender):
		form.Set("MessagingServiceSid", sender)
	default:
		form.Set("From", withChannel(sender))
	}
	form.Set("To", withChannel(string(m.To)))
	switch m.Kind {
	case bot.KindText:
		options := m.Buttons
		if m.List != nil {
			for _, r := range m.List.Rows {
				options = append(options, envelope.Button{ID: r.ID, Title: r.Title})
			}
		}
		form.Set("Body", textWithButtons(m.Text, options))
	case bot.KindTemplate:
		sid, ok := a.contentSID(m.Template, m.Language)
		if !ok {
			return nil, permanent(CodeNotConfigured, "no ContentSid configured for template %s", TemplateKey{m.Template, m.Language})
		}
		form.Set("ContentSid", sid)
		if params := m.Params; len(params) > 0 {
			vars, err := json.Marshal(params)
			if err != nil {
				return nil, permanent(CodeInvalidMessage, "template params: %v", err)
			}
			form.Set("ContentVariables", string(vars))
		}
	}
	if a.statusCB != "" {
		form.Set("StatusCallback", a.statusCB)
	}
	return form, nil
}

// contentSID finds a template's ContentSid: the entry for its name and
// language, else the name's entry without a language, else (for a message
// without a language) the name's only entry.
func (a *Adapter) contentSID(name, lang string) (string, bool) {
	if sid, ok := a.templates[TemplateKey{name, lang}]; ok {
		return sid, true
	}
	if sid, ok := a.templates[TemplateKey{Name: name}]; ok {
		return sid, true
	}
	if lang != "" {
		return "", false
	}
	var found string
	n := 0
	for k, sid := range a.templates {
		if k.Name == name {
			found, n = sid, n+1
		}
	}
	return found, n == 1
}

// textWithButtons appends the buttons to the text as numbered lines.
func textWithButtons(text string, buttons []envelope.Button) string {
	if len(buttons) == 0 {
		return text
	}
	var b strings.Builder
	b.WriteString(text)
	b.WriteString("\n")
	for i, bt := range buttons {
		title := bt.Title
		if title == "" {
			title = bt.ID
		}
		fmt.Fprintf(&b, "\n%d) %s", i+1, title)
	}
	return b.String()
}

func permanent(code, format string, args ...any) *envelope.SendError {
	return &envelope.SendError{Provider: ProviderName, Code: code, Message: fmt.Sprintf(format, args...)}
}

// apiError classifies a Twilio error answer: {"code","message","more_info","status"}.
func apiError(resp *http.Response, data []byte) *envelope.SendError {
	var body struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
	}
	e := &envelope.SendError{Provider: ProviderName, HTTPStatus: resp.StatusCode}
	if json.Unmarshal(data, &body) == nil {
		e.Code = strings.Trim(string(body.Code), `"`)
		if e.Code == "null" {
			e.Code = ""
		}
		e.Message = redactNumbers(clip(body.Message, 300))
	}
	if e.Code == "" {
		e.Code = "http_" + strconv.Itoa(resp.StatusCode)
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	e.Signal = signalOf(e.Code)
	e.Retryable = e.Signal == "" && (resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode == http.StatusRequestTimeout || e.Code == "63018" || e.Code == "20429")
	if e.Retryable {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return e
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(min(s, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

var phoneNumber = regexp.MustCompile(`\+?[0-9]{7,15}`)

// redactNumbers shortens phone numbers in a Twilio error message ("The 'To'
// number +14155550100 is not…") to their redacted form, so the error is
// safe to log.
func redactNumbers(s string) string {
	return phoneNumber.ReplaceAllStringFunc(s, func(n string) string {
		if !strings.HasPrefix(n, "+") {
			n = "+" + n
		}
		return bot.CustomerID(n).Redacted()
	})
}
