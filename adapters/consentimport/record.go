package consentimport

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// Action is what a record does to the customer's consent.
type Action string

const (
	OptIn  Action = "opt_in"
	OptOut Action = "opt_out"
)

// Record is one opt-in or opt-out as a business sends it: a JSON body of
// the API or a row of an import file. Every field is text, so that each
// can be reported wrong on its own.
type Record struct {
	// Line is the record's line in its file (0 for an API call).
	Line int `json:"-"`
	// ID is the evidence's id at its source; a record with an id already
	// recorded changes nothing. Empty, it is derived from the record's
	// content, so that the same row imported twice is recorded once.
	ID       string `json:"id,omitempty"`
	Customer string `json:"-"`
	Action   Action `json:"action"`
	// Topic is the topic consented to or withdrawn; an opt-out with no
	// topic ends every topic.
	Topic  string `json:"topic,omitempty"`
	Source string `json:"source"`
	// Wording is the text the customer saw and agreed to; an opt-in's
	// must say WhatsApp, name the business and describe the topic.
	Wording  string `json:"wording,omitempty"`
	Language string `json:"language,omitempty"`
	// Where is where at the source: a form's URL, a campaign, a shop.
	Where string `json:"where,omitempty"`
	// ConsentedAt is when the customer agreed (or opted out), RFC 3339.
	ConsentedAt string `json:"consented_at"`

	// RowError is what is wrong with the row as a whole (its number of
	// columns), found while reading the file.
	RowError string `json:"-"`
}

// Entry is a valid record, ready for the engine.
type Entry struct {
	Line     int
	ID       string
	Customer bot.CustomerID
	Action   Action
	Topic    flows.Topic
	Source   bot.Source
	Wording  string
	Language string
	Where    string
	At       time.Time
}

// FieldError says what is wrong with one field of a record. Code is
// stable: invalid_customer, invalid_action, invalid_topic, unknown_topic,
// invalid_source, source_not_allowed, invalid_time, invalid_language,
// too_long, invalid_row, and the wording's gaps (wording_empty,
// wording_missing_whatsapp, wording_missing_business,
// wording_missing_topic).
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Refusal reports whether the error refuses the evidence (its wording or
// its source) rather than the request's form: the API answers 422 for
// these, 400 for the others.
func (fe FieldError) Refusal() bool {
	return strings.HasPrefix(fe.Code, "wording_") || fe.Code == "source_not_allowed"
}

// sourceNames maps the source names a record may give to the ledger's
// sources: the ledger's own names and the short ones. The chat and the
// provider are not sources a business may claim.
var sourceNames = map[string]bot.Source{
	"sms": bot.SourceSMSCampaign, "sms_campaign": bot.SourceSMSCampaign,
	"email": bot.SourceEmailCampaign, "email_campaign": bot.SourceEmailCampaign,
	"web": bot.SourceWeb, "live_chat": bot.SourceLiveChat, "signup": bot.SourceSignup, "api": bot.SourceAPI,
}

// SourceNames is the accepted source names, for messages and docs.
const SourceNames = "sms, email, web, live_chat, signup or api (sms_campaign and email_campaign are sms and email)"

// maxField caps every field's length, in bytes.
const maxField = 4096

// MaxSkew is how far in the future a consented_at may lie: clocks differ.
const MaxSkew = 5 * time.Minute

// Validate checks a record against business biz's flow at now and returns
// the entry, or every field at fault.
func (r Record) Validate(f *flows.Flow, now time.Time) (Entry, []FieldError) {
	var bad []FieldError
	add := func(field, code, msg string) { bad = append(bad, FieldError{field, code, msg}) }
	if r.RowError != "" {
		return Entry{}, []FieldError{{"row", "invalid_row", r.RowError}}
	}
	e := Entry{Line: r.Line, ID: strings.TrimSpace(r.ID), Action: r.Action, Topic: flows.Topic(strings.TrimSpace(r.Topic)),
		Wording: strings.TrimSpace(r.Wording), Language: strings.TrimSpace(r.Language), Where: strings.TrimSpace(r.Where)}
	for _, f := range []struct{ name, v string }{{"id", r.ID}, {"topic", r.Topic}, {"wording", r.Wording}, {"language", r.Language}, {"where", r.Where}} {
		if len(f.v) > maxField {
			add(f.name, "too_long", fmt.Sprintf("is %d bytes long; at most %d", len(f.v), maxField))
		}
	}
	c, err := NormalizeCustomer(r.Customer)
	if err != nil {
		// Not err's words: they quote the input, and reports and logs
		// carry no phone numbers.
		add("customer", "invalid_customer", "is neither a phone number with its country code (E.164, such as +14155550100) nor a WhatsApp user id (such as US.1234)")
	}
	e.Customer = c
	switch r.Action {
	case OptIn, OptOut:
	case "":
		add("action", "invalid_action", "required: opt_in or opt_out")
	default:
		add("action", "invalid_action", "want opt_in or opt_out, got "+strconv.Quote(string(r.Action)))
	}
	var topic flows.TopicDef
	topicOK := false
	switch {
	case e.Topic == "" && r.Action == OptIn:
		add("topic", "invalid_topic", "required for an opt-in: the topic the customer agreed to")
	case e.Topic != "":
		topic, topicOK = f.Topic(e.Topic)
		if !topicOK {
			add("topic", "unknown_topic", "the flow declares no topic "+strconv.Quote(string(e.Topic)))
		}
	}
	src, ok := sourceNames[strings.ToLower(strings.TrimSpace(r.Source))]
	switch {
	case strings.TrimSpace(r.Source) == "":
		add("source", "invalid_source", "required: where the customer agreed, one of "+SourceNames)
	case !ok:
		add("source", "invalid_source", "want one of "+SourceNames+", got "+strconv.Quote(r.Source))
	case r.Action == OptIn && topicOK && !containsSource(topic.GrantedBy, src):
		allowed := "no source but the chat"
		if len(topic.GrantedBy) > 0 {
			allowed = "only " + strings.Join(topic.GrantedBy, ", ")
		}
		add("source", "source_not_allowed", fmt.Sprintf("source %s may not grant topic %q: the flow's granted_by allows %s", src, e.Topic, allowed))
	}
	e.Source = src
	if strings.TrimSpace(r.ConsentedAt) == "" {
		add("consented_at", "invalid_time", "required: when the customer agreed, RFC 3339 such as 2026-03-01T09:30:00Z")
	} else if at, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(r.ConsentedAt)); err != nil {
		add("consented_at", "invalid_time", "want an RFC 3339 time such as 2026-03-01T09:30:00Z, got "+strconv.Quote(r.ConsentedAt))
	} else if at.After(now.Add(MaxSkew)) {
		add("consented_at", "invalid_time", "lies in the future: "+at.UTC().Format(time.RFC3339))
	} else {
		e.At = at.UTC()
	}
	if e.Language != "" && !validLanguage(e.Language) {
		add("language", "invalid_language", "want a language tag such as en or pt-BR, got "+strconv.Quote(e.Language))
	}
	if r.Action == OptIn && topicOK {
		for _, gap := range bot.GrantWordingGaps(f, e.Topic, e.Wording) {
			add("wording", string(gap.Code), "the wording "+gap.Message)
		}
	}
	if len(bad) > 0 {
		return Entry{}, bad
	}
	if e.ID == "" {
		e.ID = derivedID(e)
	}
	return e, nil
}

func containsSource(list []string, s bot.Source) bool {
	for _, v := range list {
		if v == string(s) {
			return true
		}
	}
	return false
}

// validLanguage accepts a BCP 47-ish tag: letters, digits and hyphens,
// starting with 2 or 3 letters.
func validLanguage(s string) bool {
	if len(s) < 2 || len(s) > 35 {
		return false
	}
	for i, c := range s {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		switch {
		case i < 2 && !letter:
			return false
		case !letter && !('0' <= c && c <= '9') && c != '-' && c != '_':
			return false
		}
	}
	return true
}

// derivedID is a record's id when it gives none: a digest of what it
// says, so that the same evidence is recorded once however often it is
// sent.
func derivedID(e Entry) string {
	sum := sha256.New()
	for _, s := range []string{string(e.Customer), string(e.Action), string(e.Topic), string(e.Source), e.Wording,
		e.Language, e.Where, e.At.Format(time.RFC3339Nano)} {
		fmt.Fprintf(sum, "%d:%s;", len(s), s)
	}
	return "ev-" + hex.EncodeToString(sum.Sum(nil))[:24]
}

// NormalizeCustomer turns a phone number as people write it into E.164
// and checks it with bot.ParseCustomerID: spaces, dots, hyphens, slashes
// and parentheses go, and a leading 00 becomes +. The number must carry
// its country code. A WhatsApp user id (US.1234) is taken as it is.
func NormalizeCustomer(s string) (bot.CustomerID, error) {
	s = strings.TrimSpace(s)
	if s == "" || !strings.ContainsAny(s[:1], "+0123456789(") {
		return bot.ParseCustomerID(s)
	}
	var b strings.Builder
	for _, c := range s {
		switch c {
		case ' ', '.', '-', '/', '(', ')', '\u00a0':
		default:
			b.WriteRune(c)
		}
	}
	n := b.String()
	if rest, ok := strings.CutPrefix(n, "00"); ok {
		n = "+" + rest
	}
	if !strings.HasPrefix(n, "+") {
		return "", fmt.Errorf("customer %q has no country code: write it in E.164, such as +14155550100", s)
	}
	return bot.ParseCustomerID(n)
}
