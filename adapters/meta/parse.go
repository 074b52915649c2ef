package meta

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
)

// ObjectWhatsApp is the "object" of every WhatsApp Business Account webhook.
const ObjectWhatsApp = "whatsapp_business_account"

// The webhook fields the parser reads. Others are ignored.
const (
	FieldMessages        = "messages"
	FieldUserPreferences = "user_preferences"
	FieldQuality         = "phone_number_quality_update"
	FieldTemplateStatus  = "message_template_status_update"
)

// ErrBody is wrapped by ParseBody's error when a body cannot be parsed at
// all: not JSON, truncated, or not a WhatsApp Business Account webhook.
var ErrBody = errors.New("unparseable webhook body")

// ParseBody normalises a WhatsApp Cloud API webhook body (as Meta sends it,
// or as a provider such as 360dialog forwards it) into a batch. provider
// names the adapter in the envelopes ("meta", "dialog360") and prefixes the
// dead letters' ids; receivedAt stamps the dead letters, and account events
// that carry no time of their own.
//
// It fails, with an error wrapping ErrBody that never quotes the body, only
// when the body is not JSON of the webhook's shape. Any single item that
// cannot be normalised becomes a DeadLetter and the rest of the body goes
// through. Each item appears at most once (by its NATS message id), in body
// order.
func ParseBody(provider string, body []byte, receivedAt time.Time) (envelope.Batch, error) {
	var w wireBody
	if err := json.Unmarshal(body, &w); err != nil {
		return envelope.Batch{}, fmt.Errorf("%s webhook: %w: %s", provider, ErrBody, describeJSONError(err))
	}
	if w.Object != ObjectWhatsApp {
		// Not quoted: the error must not echo the body.
		return envelope.Batch{}, fmt.Errorf("%s webhook: %w: object is not %q (a Page, Instagram or other subscription sent here?)", provider, ErrBody, ObjectWhatsApp)
	}
	p := parser{provider: provider, receivedAt: receivedAt.UTC(), seen: make(map[string]bool)}
	for e, entry := range w.Entry {
		for c, change := range entry.Changes {
			p.change(fmt.Sprintf("entry[%d].changes[%d]", e, c), entry, change)
		}
	}
	return p.batch, nil
}

// describeJSONError says why a body is not JSON without quoting it.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn) && syn.Error() == "unexpected end of JSON input":
		return fmt.Sprintf("truncated JSON (ends after %d bytes)", syn.Offset)
	case errors.As(err, &syn):
		return fmt.Sprintf("not JSON (syntax error at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the document"
		}
		return fmt.Sprintf("%s is a JSON %s, want %s", field, typ.Value, jsonKind(typ.Type))
	}
	return "not JSON"
}

// The wire shapes: only the fields optinbot reads.

type wireBody struct {
	Object string      `json:"object"`
	Entry  []wireEntry `json:"entry"`
}

type wireEntry struct {
	ID      scalar          `json:"id"`
	Time    json.RawMessage `json:"time"`
	Changes []wireChange    `json:"changes"`
}

type wireChange struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

type wireValue struct {
	Metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      scalar `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts        []json.RawMessage `json:"contacts"`
	Messages        []json.RawMessage `json:"messages"`
	Statuses        []json.RawMessage `json:"statuses"`
	Errors          []json.RawMessage `json:"errors"`
	UserPreferences []json.RawMessage `json:"user_preferences"`
}

type wireContact struct {
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
	WaID   scalar `json:"wa_id"`
	UserID string `json:"user_id"`
}

type wireMessage struct {
	ID         scalar          `json:"id"`
	From       scalar          `json:"from"`
	FromUserID string          `json:"from_user_id"`
	Timestamp  json.RawMessage `json:"timestamp"`
	Type       string          `json:"type"`
	GroupID    scalar          `json:"group_id"`
	Context    *struct {
		ID string `json:"id"`
	} `json:"context"`
	Text *struct {
		Body string `json:"body"`
	} `json:"text"`
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		Type        string     `json:"type"`
		ButtonReply *wireReply `json:"button_reply"`
		ListReply   *wireReply `json:"list_reply"`
	} `json:"interactive"`
	Reaction *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
	Image    *wireMedia `json:"image"`
	Audio    *wireMedia `json:"audio"`
	Video    *wireMedia `json:"video"`
	Document *wireMedia `json:"document"`
	Sticker  *wireMedia `json:"sticker"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
	} `json:"location"`
	Contacts []wireCard `json:"contacts"`
	// Errors come with a message Meta could not pass on: type
	// "unsupported", code 131051 and others.
	Errors []wireError `json:"errors"`
}

type wireReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type wireMedia struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	SHA256   string `json:"sha256"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type wireCard struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
		FirstName     string `json:"first_name"`
		LastName      string `json:"last_name"`
	} `json:"name"`
	Phones []struct {
		Phone string `json:"phone"`
	} `json:"phones"`
}

type wireStatus struct {
	ID              scalar          `json:"id"`
	Status          string          `json:"status"`
	Timestamp       json.RawMessage `json:"timestamp"`
	RecipientID     scalar          `json:"recipient_id"`
	RecipientUserID string          `json:"recipient_user_id"`
	BizOpaque       string          `json:"biz_opaque_callback_data"`
	Errors          []wireError     `json:"errors"`
}

type wireError struct {
	Code      scalar `json:"code"`
	Title     string `json:"title"`
	Message   string `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
	// Details at the top level: what some intermediaries and older
	// payloads send instead of error_data.details.
	Details string `json:"details"`
}

// providerErrors keeps the errors Meta reported with a message: code, title
// (or message when there is no title) and details. An error with neither a
// code nor a title is kept with its message or details as the title.
func providerErrors(ws []wireError) []envelope.ProviderError {
	var out []envelope.ProviderError
	for _, w := range ws {
		e := envelope.ProviderError{Code: string(w.Code), Title: w.Title, Details: w.ErrorData.Details}
		if e.Details == "" {
			e.Details = w.Details
		}
		if e.Title == "" {
			e.Title = w.Message
		}
		if e.Title == "" && e.Code == "" {
			e.Title, e.Details = e.Details, ""
		}
		if e.Details == e.Title {
			e.Details = ""
		}
		if e.Code == "" && e.Title == "" {
			continue // nothing to tell
		}
		out = append(out, e)
	}
	return out
}

type wirePreference struct {
	WaID      scalar          `json:"wa_id"`
	UserID    string          `json:"user_id"`
	Detail    string          `json:"detail"`
	Category  string          `json:"category"`
	Value     string          `json:"value"`
	Timestamp json.RawMessage `json:"timestamp"`
}

// scalar is a JSON string or number (or null), kept as its text: Meta's ids
// are strings, but a number must not make a whole item undecodable.
type scalar string

func (s *scalar) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*s = scalar(n)
	}
	return nil
}

// parser accumulates one body's batch.
type parser struct {
	provider   string
	receivedAt time.Time
	seen       map[string]bool // "<type>\x00<MsgID>" of the items added
	batch      envelope.Batch
}

// once reports whether the item with this id has not been added yet, and
// marks it added.
func (p *parser) once(kind, msgID string) bool {
	k := kind + "\x00" + msgID
	if p.seen[k] {
		return false
	}
	p.seen[k] = true
	return true
}

// dead adds a dead letter. key is the item's own id when it has one;
// otherwise the item's path and a hash of its bytes make a deterministic id
// (a retried webhook yields the same one) that cannot collide with another
// body's item at the same index.
func (p *parser) dead(key, path, sender, reason string, item []byte) {
	if key == "" {
		sum := sha256.Sum256(item)
		key = path + ":" + hex.EncodeToString(sum[:8])
	}
	d := envelope.DeadLetter{
		ID:         p.provider + ":" + key,
		Provider:   p.provider,
		Sender:     sender,
		Reason:     path + ": " + reason,
		Item:       compact(item),
		ReceivedAt: p.receivedAt,
	}
	if strings.IndexFunc(d.ID, isControl) >= 0 {
		// An id with control characters cannot be a Nats-Msg-Id.
		sum := sha256.Sum256(item)
		d.ID = p.provider + ":" + path + ":" + hex.EncodeToString(sum[:8])
	}
	if p.once("dead", d.MsgID()) {
		p.batch.DeadLetters = append(p.batch.DeadLetters, d)
	}
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

func compact(item []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, item); err != nil {
		return string(item)
	}
	return b.String()
}

func (p *parser) change(path string, entry wireEntry, ch wireChange) {
	switch ch.Field {
	case FieldMessages, FieldUserPreferences:
		p.messagesValue(path+".value", entry, ch.Value)
	case FieldQuality:
		p.qualityEvent(path+".value", entry, ch.Value)
	case FieldTemplateStatus:
		p.templateEvent(path+".value", entry, ch.Value)
	}
}

func (p *parser) messagesValue(path string, entry wireEntry, raw json.RawMessage) {
	var v wireValue
	if err := json.Unmarshal(raw, &v); err != nil || isNull(raw) {
		p.dead("", path, "", "the value does not decode: "+decodeReason(err, raw), raw)
		return
	}
	sender := string(v.Metadata.PhoneNumberID)
	cs := contactIndex(v.Contacts)
	for i, item := range v.Messages {
		p.message(fmt.Sprintf("%s.messages[%d]", path, i), sender, cs, item)
	}
	for i, item := range v.Statuses {
		p.status(fmt.Sprintf("%s.statuses[%d]", path, i), sender, item)
	}
	for i, item := range v.UserPreferences {
		p.preference(fmt.Sprintf("%s.user_preferences[%d]", path, i), sender, item)
	}
	for i, item := range v.Errors {
		p.valueError(fmt.Sprintf("%s.errors[%d]", path, i), sender, string(entry.ID), item)
	}
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

func decodeReason(err error, raw json.RawMessage) string {
	if err == nil {
		if isNull(raw) {
			return "missing or null"
		}
		return "unknown"
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		want := jsonKind(typ.Type)
		if typ.Field == "" {
			return fmt.Sprintf("a JSON %s, want %s", typ.Value, want)
		}
		return fmt.Sprintf("%s is a JSON %s, want %s", typ.Field, typ.Value, want)
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return "not JSON"
	}
	return err.Error()
}

// jsonKind names what JSON a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a number"
}

// itemID digs the "id" out of an item that does not decode as a whole, so
// its dead letter still carries the provider's id.
func itemID(raw json.RawMessage) string {
	var w struct {
		ID scalar `json:"id"`
	}
	if json.Unmarshal(raw, &w) != nil {
		return ""
	}
	return string(w.ID)
}

// contacts indexes value.contacts[]: profile names by wa_id and by
// user_id, and the number (wa_id) of each user_id.
type contacts struct {
	names  map[string]string
	phones map[string]string
}

func contactIndex(raw []json.RawMessage) contacts {
	c := contacts{names: make(map[string]string), phones: make(map[string]string)}
	for _, item := range raw {
		var w wireContact
		if json.Unmarshal(item, &w) != nil {
			continue
		}
		if w.Profile.Name != "" {
			if w.WaID != "" {
				c.names[string(w.WaID)] = w.Profile.Name
			}
			if w.UserID != "" {
				c.names[w.UserID] = w.Profile.Name
			}
		}
		if w.UserID != "" && w.WaID != "" {
			c.phones[w.UserID] = string(w.WaID)
		}
	}
	return c
}

const noSender = "value.metadata.phone_number_id is missing: cannot tell which business number the item is for"

func (p *parser) message(path, sender string, cs contacts, raw json.RawMessage) {
	var w wireMessage
	if err := json.Unmarshal(raw, &w); err != nil || isNull(raw) {
		p.dead(itemID(raw), path, sender, "the message does not decode: "+decodeReason(err, raw), raw)
		return
	}
	id := string(w.ID)
	if id == "" {
		p.dead("", path, sender, "id is missing", raw)
		return
	}
	if sender == "" {
		p.dead(id, path, sender, noSender, raw)
		return
	}
	if w.GroupID != "" {
		p.dead(id, path, sender, "a group message (group_id set): optinbot handles one-to-one conversations only", raw)
		return
	}
	ts, err := parseUnix(w.Timestamp, false)
	if err != nil {
		p.dead(id, path, sender, "timestamp "+err.Error(), raw)
		return
	}
	from, problem := customerOf(string(w.From), w.FromUserID, "from", "from_user_id")
	if problem != "" {
		p.dead(id, path, sender, problem, raw)
		return
	}
	m := envelope.InboundMessage{
		ID:        id,
		Provider:  p.provider,
		Sender:    sender,
		From:      from,
		Timestamp: ts,
	}
	if w.From != "" {
		m.ContactName = cs.names[string(w.From)]
	} else {
		m.ContactName = cs.names[w.FromUserID]
		// A user id is the customer; a number the contacts give for it
		// rides along.
		if digits := cs.phones[w.FromUserID]; allDigits(digits) {
			if phone, err := bot.ParseCustomerID("+" + digits); err == nil {
				m.Phone = string(phone)
			}
		}
	}
	if w.Context != nil {
		m.ReplyTo = w.Context.ID
	}
	fillKind(&m, &w)
	m.Errors = providerErrors(w.Errors)
	if err := m.Validate(); err != nil {
		p.dead(id, path, sender, err.Error(), raw)
		return
	}
	if p.once("inbound", m.MsgID()) {
		p.batch.Inbound = append(p.batch.Inbound, m)
	}
}

// fillKind sets Kind and the content fields from the message's type.
func fillKind(m *envelope.InboundMessage, w *wireMessage) {
	media := func(kind string, md *wireMedia) {
		if md == nil {
			m.Kind = envelope.KindUnsupported
			return
		}
		m.Kind = kind
		m.Media = &envelope.Media{ID: md.ID, MimeType: md.MimeType, SHA256: md.SHA256, Caption: md.Caption, Filename: md.Filename}
		m.Text = md.Caption
	}
	switch w.Type {
	case "text":
		m.Kind = envelope.KindText
		if w.Text != nil {
			m.Text = w.Text.Body
		}
	case "button":
		if w.Button == nil {
			m.Kind = envelope.KindUnsupported
			return
		}
		m.Kind = envelope.KindButton
		id := w.Button.Payload
		if id == "" {
			id = w.Button.Text
		}
		m.Button = &envelope.Button{ID: id, Title: w.Button.Text}
		m.Text = w.Button.Text
	case "interactive":
		var r *wireReply
		if in := w.Interactive; in != nil {
			switch {
			case in.Type == "button_reply" && in.ButtonReply != nil:
				r = in.ButtonReply
			case in.Type == "list_reply" && in.ListReply != nil:
				r = in.ListReply
			}
		}
		if r == nil {
			// Flows' nfm_reply and anything newer: no quick reply the
			// engine could act on.
			m.Kind = envelope.KindUnsupported
			return
		}
		m.Kind = envelope.KindInteractive
		m.Button = &envelope.Button{ID: r.ID, Title: r.Title}
		m.Text = r.Title
	case "reaction":
		if w.Reaction == nil {
			m.Kind = envelope.KindUnsupported
			return
		}
		m.Kind = envelope.KindReaction
		m.Reaction = &envelope.Reaction{MessageID: w.Reaction.MessageID, Emoji: w.Reaction.Emoji}
	case "image":
		media(envelope.KindImage, w.Image)
	case "audio":
		media(envelope.KindAudio, w.Audio)
	case "video":
		media(envelope.KindVideo, w.Video)
	case "document":
		media(envelope.KindDocument, w.Document)
	case "sticker":
		media(envelope.KindSticker, w.Sticker)
	case "location":
		if w.Location == nil {
			m.Kind = envelope.KindUnsupported
			return
		}
		m.Kind = envelope.KindLocation
		m.Location = &envelope.Location{Latitude: w.Location.Latitude, Longitude: w.Location.Longitude,
			Name: w.Location.Name, Address: w.Location.Address}
	case "contacts":
		m.Kind = envelope.KindContacts
		for _, c := range w.Contacts {
			name := c.Name.FormattedName
			if name == "" {
				name = strings.TrimSpace(c.Name.FirstName + " " + c.Name.LastName)
			}
			card := envelope.Contact{Name: name}
			for _, ph := range c.Phones {
				if ph.Phone != "" {
					card.Phones = append(card.Phones, ph.Phone)
				}
			}
			m.Contacts = append(m.Contacts, card)
		}
	default:
		// "unsupported", "unknown", "system", "order", "request_welcome"…:
		// the engine sees that the customer wrote, and nothing to answer.
		m.Kind = envelope.KindUnsupported
	}
}

// customerOf makes a customer id from a phone number field (digits, no "+")
// or, when there is none, a business-scoped user id field: a number wins,
// so a customer keeps the consent recorded under it. problem is a dead
// letter's reason.
func customerOf(digits, userID, digitsField, userField string) (id bot.CustomerID, problem string) {
	if digits != "" {
		if !allDigits(digits) {
			return "", fmt.Sprintf("%s %q is not a phone number: want digits only, like 14155550100", digitsField, clip(digits, 24))
		}
		c, err := bot.ParseCustomerID("+" + digits)
		if err != nil {
			return "", fmt.Sprintf("%s %q is not a possible phone number for its country code", digitsField, clip(digits, 24))
		}
		return c, ""
	}
	if userID != "" {
		if strings.HasPrefix(userID, "+") {
			return "", fmt.Sprintf("%s %q is not a WhatsApp user id like US.1234", userField, clip(userID, 24))
		}
		c, err := bot.ParseCustomerID(userID)
		if err != nil {
			return "", fmt.Sprintf("%s %q is not a WhatsApp user id like US.1234", userField, clip(userID, 24))
		}
		return c, ""
	}
	return "", fmt.Sprintf("neither %s nor %s is set: no customer to attribute it to", digitsField, userField)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// The latest instants Meta's timestamps may name: year 9999, in seconds
// and in milliseconds (time.Time does not marshal beyond it).
const (
	maxUnixSeconds = 253402300799
	minUnixMillis  = 1_000_000_000_000
	maxUnixMillis  = maxUnixSeconds*1000 + 999
)

// parseUnix reads Meta's timestamps: unix seconds as a JSON string of
// digits ("1454119029", messages and statuses), or as a JSON number too when
// number is true (user_preferences, entry.time). Milliseconds (13 digits
// and more) are tolerated, as some intermediaries send them.
func parseUnix(raw json.RawMessage, number bool) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, errors.New("is missing: want unix seconds like \"1767260000\"")
	}
	s := string(raw)
	switch {
	case raw[0] == '"':
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, errors.New("is not a valid JSON string")
		}
	case !number:
		return time.Time{}, fmt.Errorf("%s is not unix seconds in a JSON string, like \"1767260000\"", clip(s, 40))
	}
	if !allDigits(s) || len(s) > 18 {
		return time.Time{}, fmt.Errorf("%q is not unix seconds", clip(s, 40))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not unix seconds", clip(s, 40))
	}
	switch {
	case n == 0:
		return time.Time{}, fmt.Errorf("%q is not a time: zero", s)
	case n <= maxUnixSeconds:
		return time.Unix(n, 0).UTC(), nil
	case n >= minUnixMillis && n <= maxUnixMillis:
		return time.UnixMilli(n).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is out of range for unix seconds", clip(s, 40))
}

// Signal maps a Cloud API error code to the signal it carries for the
// engine, or "".
func Signal(code string) string {
	switch code {
	case "131047", "470":
		return envelope.SignalWindowClosed
	case "131026":
		return envelope.SignalUndeliverable
	case "131049":
		return envelope.SignalDeferred
	case "131050":
		return envelope.SignalStopMarketing
	}
	return ""
}

func (p *parser) status(path, sender string, raw json.RawMessage) {
	var w wireStatus
	if err := json.Unmarshal(raw, &w); err != nil || isNull(raw) {
		p.dead("", path, sender, "the status does not decode: "+decodeReason(err, raw), raw)
		return
	}
	switch w.Status {
	case envelope.StatusSent, envelope.StatusDelivered, envelope.StatusRead, envelope.StatusFailed:
	default:
		// "deleted", "played", "warning" and statuses added later:
		// nothing optinbot tracks. Dropped, not dead-lettered, so a new
		// status value does not flood the dead-letter subject.
		return
	}
	id := string(w.ID)
	if id == "" {
		p.dead("", path, sender, "id is missing", raw)
		return
	}
	key := "status:" + id + ":" + w.Status
	if sender == "" {
		p.dead(key, path, sender, noSender, raw)
		return
	}
	ts, err := parseUnix(w.Timestamp, false)
	if err != nil {
		p.dead(key, path, sender, "timestamp "+err.Error(), raw)
		return
	}
	to, problem := customerOf(string(w.RecipientID), w.RecipientUserID, "recipient_id", "recipient_user_id")
	if problem != "" {
		p.dead(key, path, sender, problem, raw)
		return
	}
	s := envelope.DeliveryStatus{
		ID:         id,
		Provider:   p.provider,
		Sender:     sender,
		To:         to,
		Status:     w.Status,
		Timestamp:  ts,
		OutboundID: w.BizOpaque,
	}
	if len(w.Errors) > 0 {
		e := w.Errors[0]
		s.ErrorCode = string(e.Code)
		s.ErrorTitle = e.Title
		if s.ErrorTitle == "" {
			s.ErrorTitle = e.Message
		}
		s.Signal = Signal(s.ErrorCode)
	}
	if err := s.Validate(); err != nil {
		p.dead(key, path, sender, err.Error(), raw)
		return
	}
	if p.once("status", s.MsgID()) {
		p.batch.Statuses = append(p.batch.Statuses, s)
	}
}

func (p *parser) preference(path, sender string, raw json.RawMessage) {
	var w wirePreference
	if err := json.Unmarshal(raw, &w); err != nil || isNull(raw) {
		p.dead("", path, sender, "the preference does not decode: "+decodeReason(err, raw), raw)
		return
	}
	if sender == "" {
		p.dead("", path, sender, noSender, raw)
		return
	}
	if w.Category != "marketing_messages" {
		p.dead("", path, sender, fmt.Sprintf("category %q is not handled: want marketing_messages", clip(w.Category, 40)), raw)
		return
	}
	var signal string
	switch w.Value {
	case "stop":
		signal = envelope.ConsentStopMarketing
	case "resume":
		signal = envelope.ConsentResumeMarketing
	default:
		p.dead("", path, sender, fmt.Sprintf("value %q is not handled: want stop or resume", clip(w.Value, 40)), raw)
		return
	}
	ts, err := parseUnix(w.Timestamp, true)
	if err != nil {
		p.dead("", path, sender, "timestamp "+err.Error(), raw)
		return
	}
	customer, problem := customerOf(string(w.WaID), w.UserID, "wa_id", "user_id")
	if problem != "" {
		p.dead("", path, sender, problem, raw)
		return
	}
	s := envelope.ConsentSignal{
		ID:        fmt.Sprintf("up:%s:%s:%d:%s", sender, customer, ts.Unix(), w.Value),
		Provider:  p.provider,
		Sender:    sender,
		Customer:  customer,
		Signal:    signal,
		Timestamp: ts,
		Detail:    w.Detail,
	}
	if err := s.Validate(); err != nil {
		p.dead("", path, sender, err.Error(), raw)
		return
	}
	if p.once("signal", s.MsgID()) {
		p.batch.Signals = append(p.batch.Signals, s)
	}
}

// valueError dead-letters an error Meta reported for the whole value (not
// tied to a message or a status), such as an authentication problem.
func (p *parser) valueError(path, sender, entryID string, raw json.RawMessage) {
	var w wireError
	if err := json.Unmarshal(raw, &w); err != nil || isNull(raw) {
		p.dead("", path, sender, "the error does not decode: "+decodeReason(err, raw), raw)
		return
	}
	reason := fmt.Sprintf("%s reported error %s", p.provider, orNone(string(w.Code)))
	for _, s := range []string{w.Title, w.Message, w.ErrorData.Details} {
		if s != "" && !strings.Contains(reason, s) {
			reason += ": " + s
		}
	}
	if sender == "" {
		sender = entryID
	}
	p.dead("", path, sender, reason, raw)
}

func orNone(s string) string {
	if s == "" {
		return "(no code)"
	}
	return s
}

// eventTime is the entry's time, or receivedAt when the entry has none.
// stamp is what makes the event's id: the unix time, or a hash of the
// value when there is no time.
func (p *parser) eventTime(entry wireEntry, raw json.RawMessage) (ts time.Time, stamp string, err error) {
	if isNull(entry.Time) {
		sum := sha256.Sum256(raw)
		return p.receivedAt, "h" + hex.EncodeToString(sum[:8]), nil
	}
	ts, err = parseUnix(entry.Time, true)
	if err != nil {
		return time.Time{}, "", err
	}
	return ts, strconv.FormatInt(ts.Unix(), 10), nil
}

func (p *parser) qualityEvent(path string, entry wireEntry, raw json.RawMessage) {
	detail, err := scalars(raw)
	if err != nil {
		p.dead("", path, string(entry.ID), "the value does not decode: "+err.Error(), raw)
		return
	}
	sender := detail["display_phone_number"]
	if sender == "" {
		sender = string(entry.ID)
	}
	if entry.ID != "" {
		detail["waba_id"] = string(entry.ID)
	}
	ts, stamp, err := p.eventTime(entry, raw)
	if err != nil {
		p.dead("", path, sender, "entry time "+err.Error(), raw)
		return
	}
	ev := envelope.ProviderEvent{
		ID:        fmt.Sprintf("quality:%s:%s", sender, stamp),
		Provider:  p.provider,
		Sender:    sender,
		Event:     envelope.EventQualityUpdate,
		Timestamp: ts,
		Detail:    detail,
	}
	if e := detail["event"]; e != "" {
		ev.ID += ":" + e
	}
	p.event(path, ev, raw)
}

func (p *parser) templateEvent(path string, entry wireEntry, raw json.RawMessage) {
	detail, err := scalars(raw)
	if err != nil {
		p.dead("", path, string(entry.ID), "the value does not decode: "+err.Error(), raw)
		return
	}
	sender := string(entry.ID)
	if sender != "" {
		detail["waba_id"] = sender
	}
	ts, stamp, err := p.eventTime(entry, raw)
	if err != nil {
		p.dead("", path, sender, "entry time "+err.Error(), raw)
		return
	}
	tmpl := detail["message_template_id"]
	if tmpl == "" {
		tmpl = detail["message_template_name"]
	}
	ev := envelope.ProviderEvent{
		ID:        fmt.Sprintf("template:%s:%s:%s:%s", sender, tmpl, detail["event"], stamp),
		Provider:  p.provider,
		Sender:    sender,
		Event:     envelope.EventTemplateStatus,
		Timestamp: ts,
		Detail:    detail,
	}
	p.event(path, ev, raw)
}

func (p *parser) event(path string, ev envelope.ProviderEvent, raw json.RawMessage) {
	if strings.IndexFunc(ev.ID, isControl) >= 0 {
		sum := sha256.Sum256(raw)
		ev.ID = ev.Event + ":" + hex.EncodeToString(sum[:8])
	}
	if err := ev.Validate(); err != nil {
		p.dead("", path, ev.Sender, err.Error(), raw)
		return
	}
	if p.once("event", ev.MsgID()) {
		p.batch.Events = append(p.batch.Events, ev)
	}
}

// scalars flattens a JSON object's scalar fields into strings: strings as
// they are, numbers as written, booleans as true/false; nested objects'
// fields under dotted keys ("rejection_info.reason"). Arrays and nulls are
// left out.
func scalars(raw json.RawMessage) (map[string]string, error) {
	out := make(map[string]string)
	if err := flatten("", raw, out, 0); err != nil {
		return nil, err
	}
	return out, nil
}

func flatten(prefix string, raw json.RawMessage, out map[string]string, depth int) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		if err == nil {
			err = errors.New("missing or null")
		}
		return fmt.Errorf("want a JSON object: %s", decodeReason(err, raw))
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := bytes.TrimSpace(obj[k])
		key := prefix + k
		if len(v) == 0 {
			continue
		}
		switch v[0] {
		case '"':
			var s string
			if json.Unmarshal(v, &s) == nil {
				out[key] = s
			}
		case '{':
			if depth < 3 {
				_ = flatten(key+".", v, out, depth+1)
			}
		case '[', 'n':
		default: // number, true, false
			out[key] = string(v)
		}
	}
	return nil
}

// clip shortens a value quoted in a reason.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut < len(s) && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
