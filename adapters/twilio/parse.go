package twilio

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
)

// ErrBody is what Parse returns (wrapped) for a body that is not a Twilio
// messaging webhook at all: not form-encoded, or without a MessageSid.
var ErrBody = errors.New("not a Twilio messaging webhook")

// Parse normalises one Twilio webhook body (application/x-www-form-urlencoded;
// Twilio posts one message or one status per request):
//
//   - an incoming message (SmsStatus=received, no MessageStatus) becomes an
//     InboundMessage;
//   - a status callback (MessageStatus sent, delivered, read, failed,
//     undelivered, canceled) becomes a DeliveryStatus; the intermediate
//     statuses (queued, accepted, scheduled, sending, receiving) give an
//     empty batch;
//   - a status callback without From or MessagingServiceSid is reported
//     for Config.DefaultSender, if set;
//   - an item that cannot be normalised (a From that is neither a phone
//     number nor a WhatsApp user id, an unknown status…) becomes a
//     DeadLetter with the reason.
//
// Twilio's webhooks carry no time of their own, so receivedAt is the
// message's timestamp (a status uses RawDlrDoneDate when Twilio sends it).
// The error, wrapping ErrBody, is only for a body that is not a Twilio
// messaging webhook at all; it never quotes the body.
func (a *Adapter) Parse(body []byte, receivedAt time.Time) (envelope.Batch, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return envelope.Batch{}, fmt.Errorf("twilio: the body is not application/x-www-form-urlencoded: %w", ErrBody)
	}
	p := parser{form: form, body: body, at: receivedAt.UTC(), defaultSender: a.sender}
	p.sid = p.first("MessageSid", "SmsMessageSid", "SmsSid")
	switch {
	case p.sid == "":
		return envelope.Batch{}, fmt.Errorf("twilio: the body has no MessageSid: %w", ErrBody)
	case len(p.sid) > 128 || strings.IndexFunc(p.sid, unicode.IsControl) >= 0:
		return envelope.Batch{}, fmt.Errorf("twilio: the MessageSid is not a message id: %w", ErrBody)
	}
	status := strings.ToLower(p.get("MessageStatus"))
	if status == "" {
		// Older status callbacks carry only SmsStatus.
		if s := strings.ToLower(p.get("SmsStatus")); s != "received" {
			status = s
		}
	}
	if status == "" || status == "received" {
		return p.inbound(), nil
	}
	return p.status(status), nil
}

type parser struct {
	form url.Values
	body []byte
	sid  string
	at   time.Time
	// defaultSender is Config.DefaultSender: the sender of a status
	// callback that names neither From nor MessagingServiceSid.
	defaultSender string
}

func (p *parser) get(key string) string { return strings.TrimSpace(p.form.Get(key)) }

// first returns the first of the keys that has a value.
func (p *parser) first(keys ...string) string {
	for _, k := range keys {
		if v := p.get(k); v != "" {
			return v
		}
	}
	return ""
}

// dead returns the batch of one dead letter: the item, why, and as much of
// the routing as is known.
func (p *parser) dead(sender, format string, args ...any) envelope.Batch {
	return envelope.Batch{DeadLetters: []envelope.DeadLetter{{
		ID:         ProviderName + ":" + p.sid,
		Provider:   ProviderName,
		Sender:     sender,
		Reason:     fmt.Sprintf(format, args...),
		Item:       string(p.body),
		ReceivedAt: p.at,
	}}}
}

// inbound normalises an incoming message.
func (p *parser) inbound() envelope.Batch {
	sender := stripChannel(p.get("To"))
	if sender == "" {
		return p.dead("", "inbound message without To: no business number to route it to")
	}
	from, phone, reason := p.customer()
	if reason != "" {
		return p.dead(sender, "%s", reason)
	}
	m := envelope.InboundMessage{
		ID:          p.sid,
		Provider:    ProviderName,
		Sender:      sender,
		From:        from,
		Phone:       phone,
		Timestamp:   p.at,
		Text:        p.form.Get("Body"),
		ContactName: p.get("ProfileName"),
		ReplyTo:     p.get("OriginalRepliedMessageSid"),
	}
	msgType := strings.ToLower(p.get("MessageType"))
	nMedia, _ := strconv.Atoi(p.get("NumMedia"))
	switch {
	case p.get("ListId") != "" || p.get("ListTitle") != "":
		m.Kind = envelope.KindInteractive
		m.Button = button(p.get("ListId"), p.get("ListTitle"))
	case p.get("ButtonPayload") != "" || p.get("ButtonText") != "":
		// A quick reply of a template is MessageType=button; one of an
		// interactive Content template (twilio/quick-reply) is interactive.
		m.Kind = envelope.KindButton
		if msgType == envelope.KindInteractive {
			m.Kind = envelope.KindInteractive
		}
		m.Button = button(p.get("ButtonPayload"), p.get("ButtonText"))
	case nMedia > 0 || p.get("MediaUrl0") != "":
		mime := strings.ToLower(p.get("MediaContentType0"))
		m.Kind = mediaKind(msgType, mime)
		m.Media = &envelope.Media{URL: p.get("MediaUrl0"), MimeType: mime, Caption: m.Text}
	case p.get("Latitude") != "" || p.get("Longitude") != "":
		lat, okLat := coordinate(p.get("Latitude"), 90)
		lon, okLon := coordinate(p.get("Longitude"), 180)
		if !okLat || !okLon {
			return p.dead(sender, "location with an invalid Latitude/Longitude")
		}
		m.Kind = envelope.KindLocation
		m.Location = &envelope.Location{Latitude: lat, Longitude: lon, Name: p.get("Label"), Address: p.get("Address")}
	case m.Text != "":
		m.Kind = envelope.KindText
	default:
		m.Kind = envelope.KindUnsupported
	}
	if m.Button != nil && m.Text == "" {
		m.Text = m.Button.Title
	}
	// An error Twilio reports with the message (as on status callbacks):
	// kept, so operators see why a message came without its content.
	if code, title := p.get("ErrorCode"), p.get("ErrorMessage"); (code != "" && code != "0") || title != "" {
		if code == "0" {
			code = ""
		}
		if title == "" {
			title = errorTitles[code]
		}
		m.Errors = []envelope.ProviderError{{Code: code, Title: title}}
	}
	if err := m.Validate(); err != nil {
		return p.dead(sender, "%v", err)
	}
	return envelope.Batch{Inbound: []envelope.InboundMessage{m}}
}

// customer finds the customer of an inbound message: From (a number, with
// or without the whatsapp: prefix and the +, or a WhatsApp user id); when
// From is empty, WaId (the number's digits), then ExternalUserId (the
// business-scoped user id, "whatsapp:US.1234"). phone is the customer's
// number when the customer id is a user id and Twilio also gave a number.
func (p *parser) customer() (id bot.CustomerID, phone, reason string) {
	waID := p.get("WaId")
	phoneOf := func(c bot.CustomerID) string {
		if !c.IsUserID() || waID == "" {
			return ""
		}
		if n, err := parseCustomer(waID); err == nil && !n.IsUserID() {
			return string(n)
		}
		return ""
	}
	if raw := p.get("From"); raw != "" {
		c, err := parseCustomer(stripChannel(raw))
		if err != nil {
			return "", "", fmt.Sprintf("From %s is neither an E.164 phone number nor a WhatsApp user id", redact(raw))
		}
		return c, phoneOf(c), ""
	}
	if waID != "" {
		if c, err := parseCustomer(waID); err == nil && !c.IsUserID() {
			return c, "", ""
		}
	}
	if raw := p.get("ExternalUserId"); raw != "" {
		if c, err := bot.ParseCustomerID(stripChannel(raw)); err == nil && c.IsUserID() {
			return c, phoneOf(c), ""
		}
		return "", "", fmt.Sprintf("no From, and ExternalUserId %s is not a WhatsApp user id", redact(raw))
	}
	return "", "", "inbound message without From, WaId or ExternalUserId: no customer"
}

// parseCustomer accepts a customer id, and a number written without its +.
func parseCustomer(s string) (bot.CustomerID, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		s = "+" + s
	}
	return bot.ParseCustomerID(s)
}

func redact(s string) string {
	return strconv.Quote(bot.CustomerID(s).Redacted())
}

func button(id, title string) *envelope.Button {
	if id == "" {
		// A tap Twilio reports without its payload: the title stands in,
		// and the engine matches it like typed text.
		id = title
	}
	return &envelope.Button{ID: id, Title: title}
}

// mediaKind is the Kind of an attachment: Twilio's MessageType when it names
// one, else the media type's.
func mediaKind(msgType, mime string) string {
	switch msgType {
	case envelope.KindImage, envelope.KindAudio, envelope.KindVideo, envelope.KindDocument, envelope.KindSticker:
		return msgType
	}
	switch {
	case strings.HasPrefix(mime, "image/"):
		return envelope.KindImage
	case strings.HasPrefix(mime, "audio/"):
		return envelope.KindAudio
	case strings.HasPrefix(mime, "video/"):
		return envelope.KindVideo
	case mime == "text/vcard" || mime == "text/x-vcard":
		return envelope.KindContacts
	default:
		return envelope.KindDocument
	}
}

func coordinate(s string, limit float64) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.Abs(v) > limit {
		return 0, false
	}
	return v, true
}

// statuses maps Twilio's final (and reportable) message statuses to ours.
var statuses = map[string]string{
	"sent":        envelope.StatusSent,
	"delivered":   envelope.StatusDelivered,
	"read":        envelope.StatusRead,
	"failed":      envelope.StatusFailed,
	"undelivered": envelope.StatusFailed,
	"canceled":    envelope.StatusFailed, // a scheduled message that never went out
}

// interim lists the statuses on the way to a final one: nothing to report.
var interim = map[string]bool{
	"queued": true, "accepted": true, "scheduled": true, "sending": true, "receiving": true,
}

// errorTitles describes the error codes of statuses the engine acts on,
// for a callback that carries no ErrorMessage.
var errorTitles = map[string]string{
	"63016": "Free-form message outside the customer service window: send a template",
	"21610": "Recipient has opted out (unsubscribed)",
	"63018": "Channel rate limit exceeded",
	"63024": "Invalid message recipient",
	"63032": "Cannot send to this user because of a WhatsApp limitation",
}

// signalOf maps a Twilio error code to the signal it carries for the
// engine: 63016 → window_closed, 21610 → opted_out, anything else "".
func signalOf(code string) string {
	switch code {
	case "63016":
		return envelope.SignalWindowClosed
	case "21610":
		return envelope.SignalOptedOut
	}
	return ""
}

// status normalises a status callback.
func (p *parser) status(twStatus string) envelope.Batch {
	if interim[twStatus] {
		return envelope.Batch{}
	}
	sender := stripChannel(p.first("From", "MessagingServiceSid"))
	if sender == "" {
		sender = stripChannel(p.defaultSender)
	}
	st, ok := statuses[twStatus]
	if !ok {
		return p.dead(sender, "unknown MessageStatus %q", clip(twStatus, 40))
	}
	if sender == "" {
		return p.dead("", "status callback without From or MessagingServiceSid, and no DefaultSender configured: no business number")
	}
	raw := p.first("To", "ChannelToAddress")
	if raw == "" {
		return p.dead(sender, "status callback without To: no customer")
	}
	to, err := parseCustomer(stripChannel(raw))
	if err != nil {
		return p.dead(sender, "To %s is neither an E.164 phone number nor a WhatsApp user id", redact(raw))
	}
	s := envelope.DeliveryStatus{
		ID:         p.sid,
		Provider:   ProviderName,
		Sender:     sender,
		To:         to,
		Status:     st,
		Timestamp:  p.at,
		ErrorCode:  p.get("ErrorCode"),
		ErrorTitle: p.get("ErrorMessage"),
	}
	if t, ok := dlrDate(p.get("RawDlrDoneDate")); ok {
		s.Timestamp = t
	}
	if s.ErrorCode == "0" {
		s.ErrorCode = ""
	}
	if s.ErrorTitle == "" && s.ErrorCode != "" {
		s.ErrorTitle = errorTitles[s.ErrorCode]
	}
	s.Signal = signalOf(s.ErrorCode)
	s.CustomerOptedOut = s.Signal == envelope.SignalOptedOut
	if err := s.Validate(); err != nil {
		return p.dead(sender, "%v", err)
	}
	return envelope.Batch{Statuses: []envelope.DeliveryStatus{s}}
}

// dlrDate parses RawDlrDoneDate, the carrier's done date: YYMMDDhhmm (or
// with seconds), UTC.
func dlrDate(s string) (time.Time, bool) {
	for _, layout := range []string{"0601021504", "060102150405"} {
		if len(s) == len(layout) {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}
