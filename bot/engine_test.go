package bot_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
	"github.com/optinbot/optinbot/store/memstore"
)

const alice bot.CustomerID = "+14155550100"

// twilioSender is a sender of the test business whose channel shows
// buttons as numbered lines, like Twilio's text messages.
const twilioSender = "+15550002222"

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// harness drives a Service over a real in-memory store with a fake clock.
// Every turn goes through the store, so persistence is exercised, not
// assumed.
type harness struct {
	t     *testing.T
	now   time.Time
	store *memstore.Store
	svc   *bot.Service
	flow  *flows.Flow
	seq   int
}

func loadExample(t *testing.T, name string) (*flows.Flow, []byte) {
	t.Helper()
	src, err := examples.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := flows.Load(name, src)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return f, src
}

func loadTestFlow(t *testing.T, name string) (*flows.Flow, []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := flows.Load(path, src)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return f, src
}

func newHarness(t *testing.T, f *flows.Flow, src []byte, caps bot.Caps) *harness {
	t.Helper()
	h := &harness{t: t, now: t0, store: memstore.New(), flow: f}
	h.restart(f, src, caps)
	return h
}

// restart builds a new Service on the same store, as after a process restart.
func (h *harness) restart(f *flows.Flow, src []byte, caps bot.Caps) {
	h.t.Helper()
	svc, err := bot.NewService(context.Background(), bot.ServiceConfig{
		Store: h.store, Clock: func() time.Time { return h.now }, Logger: zerolog.Nop(), SuppressionKey: testSuppressionKey,
	}, []bot.BusinessConfig{{ID: "acme", Flow: f, Source: src, Senders: []string{"15550001111", twilioSender}, Caps: caps,
		NumberedSenders: []string{twilioSender}}})
	if err != nil {
		h.t.Fatal(err)
	}
	h.svc, h.flow = svc, f
}

func (h *harness) nextID() string {
	h.seq++
	return "wamid." + string(rune('A'+h.seq%26)) + strings.Repeat("x", h.seq/26) + "-" + time.Duration(h.seq).String()
}

func (h *harness) say(c bot.CustomerID, text string) []bot.Effect {
	h.t.Helper()
	return h.inbound(bot.Inbound{ID: h.nextID(), Sender: "15550001111", Customer: c, Timestamp: h.now, Text: text})
}

func (h *harness) tap(c bot.CustomerID, button string) []bot.Effect {
	h.t.Helper()
	return h.inbound(bot.Inbound{ID: h.nextID(), Sender: "15550001111", Customer: c, Timestamp: h.now, ButtonID: button})
}

func (h *harness) inbound(in bot.Inbound) []bot.Effect {
	h.t.Helper()
	effects, err := h.svc.HandleInbound(context.Background(), in)
	if err != nil {
		h.t.Fatalf("inbound %q: %v", in.Text, err)
	}
	return effects
}

func (h *harness) send(c bot.CustomerID, kind bot.MessageKind, templateOrText string) bot.Effect {
	h.t.Helper()
	r := bot.SendRequest{ID: h.nextID(), Customer: c, Kind: kind, Business: "acme"}
	if kind == bot.KindTemplate {
		r.Template = templateOrText
	} else {
		r.Text = templateOrText
	}
	effects, err := h.svc.HandleSendRequest(context.Background(), r)
	if err != nil {
		h.t.Fatalf("send %s %q: %v", kind, templateOrText, err)
	}
	if len(effects) != 1 {
		h.t.Fatalf("send request gave %d effects, want 1: %+v", len(effects), effects)
	}
	return effects[0]
}

func (h *harness) consent(c bot.CustomerID) map[flows.Topic]bot.ConsentStatus {
	h.t.Helper()
	s, err := h.store.LoadSession(context.Background(), "acme", c, h.now)
	if err != nil {
		h.t.Fatal(err)
	}
	return s.Consent
}

func (h *harness) ledger(c bot.CustomerID) []bot.ConsentEvent {
	h.t.Helper()
	evs, err := h.store.ConsentEvents(context.Background(), "acme", c)
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

func replies(effects []bot.Effect) []string {
	var out []string
	for _, e := range effects {
		if e.Kind == bot.EffectMessage && e.RequestID == "" {
			out = append(out, e.Message.Text)
		}
	}
	return out
}

func consentOf(effects []bot.Effect) []bot.ConsentEvent {
	var out []bot.ConsentEvent
	for _, e := range effects {
		if e.Kind == bot.EffectConsent {
			out = append(out, *e.Consent)
		}
	}
	return out
}

func TestShippedOptInPromptIsCompliant(t *testing.T) {
	f, _ := loadExample(t, examples.Retail)
	prompt := strings.ToLower(f.States[f.Start].Prompt.Text)
	for _, must := range []string{strings.ToLower(f.Business), "whatsapp", "updates about your orders", "stop"} {
		if !strings.Contains(prompt, must) {
			t.Errorf("opt-in prompt does not say %q:\n%s", must, prompt)
		}
	}
	if len(f.Templates) < 2 {
		t.Errorf("retail declares %d templates, want order_update and shipped", len(f.Templates))
	}
	for _, name := range []string{"order_update", "shipped"} {
		if tpl, ok := f.Template(name); !ok || tpl.Topic != "order_updates" {
			t.Errorf("template %s = %+v, want topic order_updates", name, tpl)
		}
	}
}

func TestFirstMessageGetsTheOptInRequest(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	effects := h.say(alice, "hi")
	if len(effects) != 1 || effects[0].Kind != bot.EffectMessage {
		t.Fatalf("effects = %+v, want one reply", effects)
	}
	msg := effects[0].Message
	if msg.Text != f.States["welcome"].Prompt.Text || len(msg.Buttons) != 2 || msg.Buttons[0].ID != "optin_yes" {
		t.Errorf("reply = %+v, want the welcome prompt with its buttons", msg)
	}
	if effects[0].InReplyTo == "" || effects[0].Sender != "15550001111" {
		t.Errorf("reply is not addressed: %+v", effects[0])
	}
}

func TestYesRecordsOptInWithEvidence(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	for _, answer := range []struct {
		name   string
		do     func(h *harness) []bot.Effect
		text   string
		trigge string
	}{
		{"button", func(h *harness) []bot.Effect { return h.tap(alice, "optin_yes") }, "Yes, send updates", "button optin_yes"},
		{"typed", func(h *harness) []bot.Effect { return h.say(alice, "Yes please!") }, "Yes please!", "keyword yes"},
	} {
		t.Run(answer.name, func(t *testing.T) {
			h := newHarness(t, f, src, bot.Caps{})
			h.say(alice, "hi")
			h.now = h.now.Add(time.Minute)
			effects := answer.do(h)
			got := consentOf(effects)
			if len(got) != 1 {
				t.Fatalf("consent effects = %+v, want one opt-in", got)
			}
			ev := got[0]
			want := bot.ConsentEvent{
				ID: ev.ID, Customer: alice, Business: "acme", Channel: "whatsapp", Topic: "order_updates",
				Category: "utility", Status: bot.OptedIn, Source: bot.SourceInChannel, Trigger: answer.trigge,
				InboundID: effects[0].InReplyTo, InboundText: answer.text, Prompt: f.States["welcome"].Prompt.Text,
				FlowName: "retail", FlowVersion: f.Version, At: t0.Add(time.Minute),
				Sender: ev.Sender, Language: "en", ProviderAt: t0.Add(time.Minute),
			}
			if ev.Sender == "" {
				t.Error("consent event has no sender number")
			}
			if ev.InboundID == "" {
				t.Error("consent event has no inbound id")
			}
			want.InboundID = ev.InboundID
			if ev != want {
				t.Errorf("consent event\n got %+v\nwant %+v", ev, want)
			}
			ledger := h.ledger(alice)
			if len(ledger) == 1 && ledger[0].Hash != "" && ledger[0].Hash == ledger[0].ChainHash("") {
				// the store links the event into the chain
				ledger[0].Hash, ledger[0].PIISalt, ledger[0].PIIDigestHex = "", "", ""
			}
			if len(ledger) != 1 || ledger[0] != ev {
				t.Errorf("ledger = %+v, want exactly the event, chained", ledger)
			}
			if r := replies(effects); len(r) != 1 || !strings.Contains(r[0], "You'll get order updates") {
				t.Errorf("replies = %q", r)
			}
			// Consent effects come before replies within a turn.
			if effects[0].Kind != bot.EffectConsent {
				t.Errorf("first effect is %s, want consent", effects[0].Kind)
			}
		})
	}
}

func TestYesIsNotConsentOnItsOwn(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	effects := h.say(alice, "YES")
	if got := consentOf(effects); len(got) != 0 {
		t.Fatalf("a YES before any opt-in request recorded %+v", got)
	}
	if r := replies(effects); len(r) != 1 || r[0] != f.States["welcome"].Prompt.Text {
		t.Errorf("replies = %q, want the opt-in request", r)
	}
	// After declining, a plain "yes" in a state that never asked is no consent either.
	h.tap(alice, "optin_no")
	h.say(alice, "ok bye") // ends the conversation
	if c := h.consent(alice); len(c) != 0 {
		t.Errorf("consent = %v, want none", c)
	}
}

func TestStopInEveryStateEndsEveryTopic(t *testing.T) {
	f, src := loadTestFlow(t, "two_topics.yaml")
	paths := map[string][]string{
		"no conversation": {},
		"ask_reminders":   {"hi"},
		"ask_offers":      {"hi", "yes"},
		"done":            {"hi", "yes", "yes"},
		"after stop":      {"hi", "yes", "STOP"},
	}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, f, src, bot.Caps{})
			for _, text := range path {
				h.say(alice, text)
			}
			effects := h.say(alice, "stop")
			got := consentOf(effects)
			if len(got) != 2 || got[0].Topic != "reminders" || got[1].Topic != "offers" {
				t.Fatalf("consent = %+v, want opted_out for reminders and offers", got)
			}
			for _, ev := range got {
				if ev.Status != bot.OptedOut || ev.Trigger != "keyword STOP" || ev.Source != bot.SourceInChannel {
					t.Errorf("event %+v, want an in-channel keyword opt-out", ev)
				}
			}
			r := replies(effects)
			if len(r) != 1 || !strings.Contains(r[0], "Sunny Clinic") || !strings.Contains(r[0], "START") {
				t.Errorf("confirmation %q must name the business and say how to come back", r)
			}
			// The conversation ended: the next message starts afresh.
			if r := replies(h.say(alice, "hello")); len(r) != 1 || r[0] != f.States["ask_reminders"].Prompt.Text {
				t.Errorf("after STOP, hello got %q, want the start prompt", r)
			}
			if got := h.send(alice, bot.KindTemplate, "reminder"); got.Kind != bot.EffectRefused || got.Refusal.Reason != bot.ReasonOptedOut {
				t.Errorf("template after STOP: %+v, want refused opted_out", got)
			}
		})
	}
}

func TestStartRestoresExactlyWhatStopEnded(t *testing.T) {
	f, src := loadTestFlow(t, "two_topics.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.tap(alice, "yes") // reminders
	h.say(alice, "no")  // no offers
	stopReply := replies(h.say(alice, "STOP"))[0]
	h.say(alice, "STOP") // a second STOP keeps what the first can restore
	h.now = h.now.Add(time.Hour)
	effects := h.say(alice, "start")
	got := consentOf(effects)
	if len(got) != 1 || got[0].Topic != "reminders" || got[0].Status != bot.OptedIn {
		t.Fatalf("START re-granted %+v, want reminders only", got)
	}
	if got[0].Prompt != stopReply {
		t.Errorf("START's prompt on record = %q, want the STOP confirmation %q", got[0].Prompt, stopReply)
	}
	if got[0].Trigger != "keyword START" {
		t.Errorf("trigger = %q", got[0].Trigger)
	}
	if c := h.consent(alice); c["reminders"] != bot.OptedIn || c["offers"] != bot.OptedOut {
		t.Errorf("consent = %v", c)
	}
	if r := replies(effects); len(r) != 1 || !strings.Contains(r[0], "appointment reminders") {
		t.Errorf("START reply %q should say what is restored", r)
	}
	if e := h.send(alice, bot.KindTemplate, "reminder"); e.Kind != bot.EffectMessage {
		t.Errorf("reminder after START: %+v, want sent", e)
	}
	// A second START has nothing left to restore.
	if got := consentOf(h.say(alice, "UNSTOP")); len(got) != 0 {
		t.Errorf("second START re-granted %+v", got)
	}
}

func TestProviderStopStaysInForce(t *testing.T) {
	f, src := loadTestFlow(t, "two_topics.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.tap(alice, "yes")
	h.say(alice, "STOP")
	if _, err := h.svc.HandleProviderOptOut(context.Background(), bot.ProviderOptOut{
		ID: "status-1", Sender: "15550001111", Customer: alice, At: h.now, Reason: "131050",
	}); err != nil {
		t.Fatal(err)
	}
	effects := h.say(alice, "START")
	if got := consentOf(effects); len(got) != 0 {
		t.Fatalf("START after a provider stop re-granted %+v", got)
	}
	if r := replies(effects); len(r) != 1 || !strings.Contains(r[0], "in WhatsApp") {
		t.Errorf("reply = %q", r)
	}
	// The provider's stop came last and only the customer can undo it in
	// WhatsApp: provider_blocked says so (issue 10, item 8).
	if e := h.send(alice, bot.KindTemplate, "reminder"); e.Kind != bot.EffectRefused || e.Refusal.Reason != bot.ReasonProviderBlocked {
		t.Errorf("template: %+v, want refused provider_blocked", e)
	}
	ledger := h.ledger(alice)
	last := ledger[len(ledger)-1]
	if last.Source != bot.SourceProvider || last.Status != bot.OptedOut {
		t.Errorf("last ledger event %+v, want a provider opt-out", last)
	}
}

func TestHelpChangesNothing(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	for _, text := range []string{"HELP", "info", "Help please"} {
		effects := h.say(alice, text)
		if r := replies(effects); len(r) != 1 || r[0] != f.Help {
			t.Errorf("%q got %q, want the help text", text, r)
		}
		if len(consentOf(effects)) != 0 {
			t.Errorf("%q changed consent", text)
		}
	}
	// Still in the welcome state: the button still works and the prompt on
	// record is still the opt-in request.
	got := consentOf(h.tap(alice, "optin_yes"))
	if len(got) != 1 || got[0].Prompt != f.States["welcome"].Prompt.Text {
		t.Errorf("after HELP, YES recorded %+v", got)
	}
}

func TestKeywordRulesThroughTheEngine(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	for _, tc := range []struct {
		text string
		stop bool
	}{
		{"STOP", true},
		{"ＳＴＯＰ", true},
		{"🛑 stop 🛑", true},
		{"Stop. Thank you", true},
		{"please stop", true},
		{"STOP please", true},
		{"stop all", true},
		{"Unsubscribe!", true},
		{"s\u200btop", true},
		{"ＣＡＮＣＥＬ", true},
		{"don't stop", false},
		{"where is the bus stop?", false},
		{"Cancel my order", false},
		{"stop it", false},
	} {
		t.Run(tc.text, func(t *testing.T) {
			h := newHarness(t, f, src, bot.Caps{})
			h.say(alice, "hi")
			h.tap(alice, "optin_yes")
			got := consentOf(h.say(alice, tc.text))
			if tc.stop && (len(got) != 1 || got[0].Status != bot.OptedOut) {
				t.Errorf("%q: consent %+v, want an opt-out", tc.text, got)
			}
			if !tc.stop && len(got) != 0 {
				t.Errorf("%q: consent %+v, want the message to go to the flow", tc.text, got)
			}
		})
	}
}

func TestRedeliveryChangesNothing(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	yes := bot.Inbound{ID: "wamid.same", Sender: "15550001111", Customer: alice, Timestamp: h.now, ButtonID: "optin_yes"}
	first := h.inbound(yes)
	if len(consentOf(first)) != 1 {
		t.Fatalf("first delivery: %+v", first)
	}
	h.now = h.now.Add(6 * 24 * time.Hour)
	if again := h.inbound(yes); len(again) != 0 {
		t.Errorf("redelivery produced %+v", again)
	}
	stop := bot.Inbound{ID: "wamid.stop", Sender: "15550001111", Customer: alice, Timestamp: h.now, Text: "STOP"}
	h.inbound(stop)
	h.inbound(bot.Inbound{ID: "wamid.start", Sender: "15550001111", Customer: alice, Timestamp: h.now, Text: "START"})
	if again := h.inbound(stop); len(again) != 0 {
		t.Errorf("redelivered STOP produced %+v", again)
	}
	if c := h.consent(alice); c["order_updates"] != bot.OptedIn {
		t.Errorf("a redelivered STOP undid the START: %v", c)
	}
	if n := len(h.ledger(alice)); n != 3 {
		t.Errorf("ledger has %d events, want 3", n)
	}
}

func TestConversationKeepsItsFlowVersion(t *testing.T) {
	f1, src1 := loadExample(t, examples.Retail)
	h := newHarness(t, f1, src1, bot.Caps{})
	h.say(alice, "hi") // starts on v1: welcome

	src2 := []byte(strings.Replace(string(src1), "Thanks! You'll get order updates", "Great! Order updates are on", 1))
	f2, err := flows.Load("retail.yaml", src2)
	if err != nil {
		t.Fatal(err)
	}
	if f2.Version == f1.Version {
		t.Fatal("the edited flow has the same version")
	}
	h.restart(f2, src2, bot.Caps{})
	effects := h.tap(alice, "optin_yes")
	if r := replies(effects); len(r) != 1 || !strings.HasPrefix(r[0], "Thanks!") {
		t.Errorf("mid-conversation reply %q, want v1's wording", r)
	}
	if ev := consentOf(effects); len(ev) != 1 || ev[0].FlowVersion != f1.Version {
		t.Errorf("consent recorded on version %+v, want %s", ev, f1.Version)
	}
	// Ending the conversation (STOP) moves the customer to the current version.
	h.say(alice, "STOP")
	h.say(alice, "hi")
	if r := replies(h.tap(alice, "optin_yes")); len(r) != 1 || !strings.HasPrefix(r[0], "Great!") {
		t.Errorf("new conversation reply %q, want v2's wording", r)
	}
}

func TestGuardReasonsThroughTheService(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{TemplatesPerDay: 3})
	bob := bot.CustomerID("US.1234")
	if e := h.send(bob, bot.KindTemplate, "shipped"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonNoConsent {
		t.Errorf("template without consent: %+v", e)
	}
	if e := h.send(bob, bot.KindText, "hello"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonWindowClosed {
		t.Errorf("text to a customer who never wrote: %+v", e)
	}
	h.say(bob, "hi")
	h.tap(bob, "optin_yes")
	for i := 0; i < 3; i++ {
		if e := h.send(bob, bot.KindTemplate, "shipped"); e.Kind != bot.EffectMessage || e.Message.Template != "shipped" ||
			e.Message.Topic != "order_updates" || e.Sender != "15550001111" {
			t.Fatalf("template %d: %+v, want sent", i+1, e)
		}
	}
	if e := h.send(bob, bot.KindTemplate, "order_update"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonFrequencyCap {
		t.Errorf("4th template: %+v, want frequency_cap", e)
	}
	if e := h.send(bob, bot.KindText, "your parcel is late"); e.Kind != bot.EffectMessage {
		t.Errorf("free-form inside the window: %+v", e)
	}
	h.now = h.now.Add(24*time.Hour + time.Second)
	if e := h.send(bob, bot.KindText, "still there?"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonWindowClosed {
		t.Errorf("free-form after 24h: %+v", e)
	}
	if e := h.send(bob, bot.KindTemplate, "shipped"); e.Kind != bot.EffectMessage {
		t.Errorf("template once the rolling day passed: %+v", e)
	}
	h.say(bob, "STOP")
	if e := h.send(bob, bot.KindText, "hello"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonOptedOut {
		t.Errorf("free-form after STOP, window open: %+v, want opted_out", e)
	}
	// A customer who writes again after STOP is still answered.
	if r := replies(h.say(bob, "hi")); len(r) != 1 {
		t.Errorf("reply after STOP: %q", r)
	}
}

func TestSendRequestErrors(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	for _, r := range []bot.SendRequest{
		{ID: "r1", Business: "acme", Customer: alice, Kind: bot.KindTemplate, Template: "nope"},
		{ID: "r2", Business: "acme", Customer: alice, Kind: bot.KindTemplate, Template: "shipped", Topic: "offers"},
		{ID: "r3", Business: "acme", Customer: "+1", Kind: bot.KindText, Text: "x"},
		{ID: "r4", Business: "other", Customer: alice, Kind: bot.KindText, Text: "x"},
		{ID: "", Business: "acme", Customer: alice, Kind: bot.KindText, Text: "x"},
	} {
		if _, err := h.svc.HandleSendRequest(context.Background(), r); err == nil || !strings.Contains(err.Error(), "bad input") {
			t.Errorf("request %+v: err = %v, want bad input", r, err)
		}
	}
	if _, err := h.svc.HandleInbound(context.Background(), bot.Inbound{ID: "x", Sender: "999", Customer: alice, Text: "hi"}); err == nil {
		t.Error("inbound from an unknown sender was accepted")
	}
}

func TestStaleInboundReplyIsRefusedNotDropped(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	// A message the provider held back for 25 hours: the window it opened is closed.
	effects := h.inbound(bot.Inbound{ID: "old", Sender: "15550001111", Customer: alice, Timestamp: h.now.Add(-25 * time.Hour), Text: "hi"})
	if len(effects) != 1 || effects[0].Kind != bot.EffectRefused || effects[0].Refusal.Reason != bot.ReasonWindowClosed || effects[0].InReplyTo != "old" {
		t.Errorf("effects = %+v, want a window_closed refusal of the reply", effects)
	}
}

func TestFlowOptOutAll(t *testing.T) {
	f, src := loadTestFlow(t, "two_topics.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.say(alice, "yes")
	got := consentOf(h.say(alice, "forget offers"))
	if len(got) != 1 || got[0].Topic != "offers" || got[0].Status != bot.OptedOut || got[0].Trigger != "keyword forget offers" {
		t.Errorf("consent = %+v", got)
	}
	if !slices.Equal(replies(h.say(alice, "hi")), []string{f.States["ask_reminders"].Prompt.Text}) {
		t.Error("a terminal state should end the conversation")
	}
}

// Text no database can store (NUL, invalid UTF-8) is cleaned, not retried
// forever.
func TestInboundTextIsCleaned(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	got := consentOf(h.say(alice, "y\x00es \xff"))
	if len(got) != 1 || got[0].InboundText != "yes \uFFFD" {
		t.Errorf("consent %+v, want the cleaned text as evidence", got)
	}
}

// Channels without quick replies number the buttons; a digit taps one.
func TestDigitPicksAButton(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	say := func(text string) []bot.Effect {
		return h.inbound(bot.Inbound{ID: h.nextID(), Sender: twilioSender, Customer: alice, Timestamp: h.now, Text: text})
	}
	say("hi")
	got := consentOf(say("1"))
	if len(got) != 1 || got[0].Trigger != "button optin_yes (by number)" || got[0].InboundText != "1" {
		t.Fatalf("consent %+v, want the first button's opt-in", got)
	}
	if r := replies(say("7")); len(r) != 1 || !strings.Contains(r[0], "You'll get order updates") {
		t.Errorf("a digit beyond the buttons (none here) should go to else: %q", r)
	}
}
