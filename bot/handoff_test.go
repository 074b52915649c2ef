package bot_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// The handoff: the customer is told a person takes over, their messages go
// to the agents (not the bot), global keywords still win, and the bot comes
// back when an agent hands the conversation back or the handoff times out.

func handoffHarness(t *testing.T) *harness {
	t.Helper()
	f, src := loadTestFlow(t, "handoff.yaml")
	return newHarness(t, f, src, bot.Caps{})
}

func ofKind(effects []bot.Effect, kind bot.EffectKind) []bot.Effect {
	var out []bot.Effect
	for _, e := range effects {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (h *harness) session(c bot.CustomerID) bot.Session {
	h.t.Helper()
	s, err := h.store.LoadSession(context.Background(), "acme", c, h.now.Add(-bot.ServiceWindow))
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *harness) release(c bot.CustomerID, id string, state flows.StateName) ([]bot.Effect, error) {
	h.t.Helper()
	return h.svc.HandleHandoffRelease(context.Background(), bot.HandoffRelease{
		ID: id, Business: "acme", Customer: c, State: state, Agent: "maria"})
}

// handoffTimers are the conversation's handoff timers.
func handoffTimers(s bot.Session) []bot.Timer {
	var out []bot.Timer
	for _, t := range s.Conversation.Timers {
		if t.Handoff != nil {
			out = append(out, t)
		}
	}
	return out
}

func TestHandoffTellsTheCustomer(t *testing.T) {
	h := handoffHarness(t)
	h.say(alice, "hi")
	effects := h.say(alice, "agent")
	if got := effectKinds(effects); !slices.Equal(got, []bot.EffectKind{bot.EffectMessage, bot.EffectHandoff}) {
		t.Fatalf("effects %v, want the customer told, then the handoff", got)
	}
	want, _ := bot.HandoffDefaults("en")
	text := strings.ReplaceAll(want.Started, "{business}", "Acme")
	if msg := effects[0]; msg.Message.Text != text || msg.InReplyTo == "" || msg.Sender != "15550001111" {
		t.Errorf("handoff notice %+v, want %q in reply to the message", msg, text)
	}
	if !strings.Contains(text, "Acme") || !strings.Contains(strings.ToLower(text), "person") {
		t.Errorf("default notice %q does not say a person from Acme takes over", text)
	}
	ho := effects[1].Handoff
	if ho.Queue != "front-desk" || ho.State != "menu" || ho.Resume != "menu" || !ho.At.Equal(h.now) || !ho.Until.Equal(h.now.Add(time.Hour)) {
		t.Errorf("handoff %+v, want front-desk from menu, resuming in menu in 1h", ho)
	}
	s := h.session(alice)
	if s.Conversation.Handoff != "front-desk" || s.Conversation.State != "" || s.Conversation.LastPrompt != text {
		t.Errorf("conversation %+v", s.Conversation)
	}
	if ts := handoffTimers(s); len(ts) != 1 || !ts[0].Due.Equal(h.now.Add(time.Hour)) {
		t.Errorf("handoff timers %+v, want one due in 1h", ts)
	}
}

func TestHandoffNoticeInTheCustomersLanguage(t *testing.T) {
	h := handoffHarness(t)
	h.say(alice, "hi")
	h.say(alice, "español")
	effects := h.say(alice, "persona")
	es, ok := bot.HandoffDefaults("es")
	if !ok {
		t.Fatal("no Spanish default")
	}
	if r := replies(effects); len(r) != 1 || r[0] != strings.ReplaceAll(es.Started, "{business}", "Acme") {
		t.Errorf("Spanish notice %q", r)
	}
}

func TestHandoffDefaultsCoverTheShippedLanguages(t *testing.T) {
	for _, lang := range []string{"en", "es", "fr", "pt", "de", "it", "ar", "hi", "id", "zh", "ja", "ru", "tr"} {
		w, ok := bot.HandoffDefaults(lang)
		if !ok {
			t.Errorf("no default handoff wording in %s", lang)
			continue
		}
		for name, s := range map[string]string{"started": w.Started, "timed out": w.TimedOut, "released": w.Released} {
			if !strings.Contains(s, "{business}") {
				t.Errorf("%s %s wording %q does not name the business", lang, name, s)
			}
		}
	}
	if _, ok := bot.HandoffDefaults("xx"); ok {
		t.Error("a default for language xx")
	}
}

func TestFlowWordsTheHandoffNotices(t *testing.T) {
	src := []byte(`business: Acme
language: en
messages:
  handoff:
    en: Hold on, the {business} team is coming.
    es: Espera, el equipo de {business} ya viene.
  handoff_released: Bot {business} again.
  handoff_timeout: Too slow, sorry.
states:
  menu:
    prompt:
      text: Say AGENT.
      variants: {fr: Dites AGENT.}
    on:
      - keywords: [agent]
        handoff: desk
      - keywords: [fr]
        set: {language: fr}
        goto: menu
`)
	f, err := flows.Load("worded.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	if r := replies(h.say(alice, "agent")); len(r) != 1 || r[0] != "Hold on, the Acme team is coming." {
		t.Errorf("flow's notice %q", r)
	}
	if r := replies(mustRelease(h, alice, "r1")); len(r) != 2 || r[0] != "Bot Acme again." || r[1] != "Say AGENT." {
		t.Errorf("after release %q", r)
	}
	h.say(alice, "agent")
	h.now = h.now.Add(time.Hour)
	if r := replies(h.fireTimers()); len(r) != 2 || r[0] != "Too slow, sorry." {
		t.Errorf("after timeout %q", r)
	}
	// A customer whose language the flow does not word gets the engine's
	// default in their language rather than the flow's English.
	h.say(alice, "fr")
	fr, _ := bot.HandoffDefaults("fr")
	if r := replies(h.say(alice, "agent")); len(r) != 1 || r[0] != strings.ReplaceAll(fr.Started, "{business}", "Acme") {
		t.Errorf("French notice %q", r)
	}
}

func mustRelease(h *harness, c bot.CustomerID, id string) []bot.Effect {
	h.t.Helper()
	effects, err := h.release(c, id, "")
	if err != nil {
		h.t.Fatalf("release %s: %v", id, err)
	}
	return effects
}

func TestHandoffForwardsTheCustomersMessages(t *testing.T) {
	h := handoffHarness(t)
	h.say(alice, "hi")
	h.say(alice, "agent")
	h.now = h.now.Add(40 * time.Minute)
	effects := h.say(alice, "hello? is anyone there")
	if got := effectKinds(effects); !slices.Equal(got, []bot.EffectKind{bot.EffectHandoffMessage}) {
		t.Fatalf("effects %v, want the message forwarded and no reply", got)
	}
	fw := effects[0].HandoffMessage
	if fw.Queue != "front-desk" || fw.Text != "hello? is anyone there" || fw.InboundID == "" || !fw.At.Equal(h.now) ||
		!fw.Until.Equal(h.now.Add(time.Hour)) {
		t.Errorf("forwarded %+v", fw)
	}
	// The customer writing keeps the handoff: its timeout counts from
	// their latest message.
	if ts := handoffTimers(h.session(alice)); len(ts) != 1 || !ts[0].Due.Equal(h.now.Add(time.Hour)) {
		t.Errorf("handoff timers %+v, want one due an hour after the latest message", ts)
	}
	// A tap on an old button goes to the agent too, with its title.
	effects = h.tap(alice, "agent")
	if len(effects) != 1 || effects[0].HandoffMessage == nil || effects[0].HandoffMessage.ButtonID != "agent" ||
		effects[0].HandoffMessage.ButtonTitle != "A person" {
		t.Errorf("tap during handoff %+v", effects)
	}
	// An answer that the flow would take as consent is not: the bot is
	// not listening.
	if ev := consentOf(h.say(alice, "news")); len(ev) != 0 {
		t.Errorf("consent recorded during a handoff: %+v", ev)
	}
	if h.consent(alice)["news"] != "" {
		t.Errorf("news consent %q", h.consent(alice)["news"])
	}
}

func TestGlobalKeywordsDuringHandoff(t *testing.T) {
	h := handoffHarness(t)
	h.say(alice, "hi")
	h.say(alice, "news")
	h.say(alice, "agent")
	// HELP is answered by the bot; the handoff stands.
	if effects := h.say(alice, "HELP"); len(replies(effects)) != 1 || len(ofKind(effects, bot.EffectHandoffMessage)) != 0 {
		t.Errorf("HELP during handoff: %v %q", kinds(effects), replies(effects))
	}
	if h.session(alice).Conversation.Handoff != "front-desk" {
		t.Error("HELP ended the handoff")
	}
	// STOP wins: every topic ends, it is confirmed, and the handoff ends
	// so the agents know to stop writing.
	effects := h.say(alice, "STOP")
	ev := consentOf(effects)
	if len(ev) != 1 || ev[0].Status != bot.OptedOut {
		t.Errorf("STOP consent %+v", ev)
	}
	if r := replies(effects); len(r) != 1 || !strings.Contains(r[0], "unsubscribed") {
		t.Errorf("STOP confirmation %q", r)
	}
	ended := ofKind(effects, bot.EffectHandoffEnded)
	if len(ended) != 1 || ended[0].HandoffEnded.Reason != bot.HandoffOptedOut || ended[0].HandoffEnded.Queue != "front-desk" ||
		ended[0].HandoffEnded.Resume != "" {
		t.Errorf("handoff end %+v", ended)
	}
	s := h.session(alice)
	if s.Conversation.Handoff != "" || len(handoffTimers(s)) != 0 {
		t.Errorf("after STOP the handoff stands: %+v", s.Conversation)
	}
	// The timeout that was set fires nothing.
	h.now = h.now.Add(2 * time.Hour)
	if got := h.fireTimers(); len(got) != 0 {
		t.Errorf("timer after STOP: %v", kinds(got))
	}
	// The bot answers the next message itself.
	if r := replies(h.say(alice, "hi")); len(r) != 1 || !strings.HasPrefix(r[0], "Menu:") {
		t.Errorf("after STOP %q", r)
	}
}

func TestStartDuringHandoffKeepsIt(t *testing.T) {
	h := handoffHarness(t)
	h.say(alice, "hi")
	h.say(alice, "news")
	h.say(alice, "stop")
	h.say(alice, "hi")
	h.say(alice, "agent")
	effects := h.say(alice, "START")
	if ev := consentOf(effects); len(ev) != 1 || ev[0].Status != bot.OptedIn {
		t.Errorf("START during handoff %+v", ev)
	}
	if h.session(alice).Conversation.Handoff != "front-desk" {
		t.Error("START ended the handoff")
	}
}

func TestHandoffTimesOutAndTheBotResumes(t *testing.T) {
	f, src := loadTestFlow(t, "handoff.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.say(alice, "agent")
	h.now = h.now.Add(30 * time.Minute)
	h.say(alice, "still there?")
	h.now = h.now.Add(59 * time.Minute)
	if got := h.fireTimers(); len(got) != 0 {
		t.Fatalf("timed out early: %v", kinds(got))
	}
	h.restart(f, src, bot.Caps{}) // the timeout is in the store, not in memory
	h.now = h.now.Add(time.Minute)
	n, err := h.svc.FireDueTimers(context.Background(), h.now, 10)
	if err != nil || n != 1 {
		t.Fatalf("FireDueTimers = %d, %v", n, err)
	}
	s := h.session(alice)
	if s.Conversation.Handoff != "" || s.Conversation.State != "menu" || !strings.HasPrefix(s.Conversation.LastPrompt, "Menu:") {
		t.Errorf("after the timeout: %+v", s.Conversation)
	}
	if n, _ := h.svc.FireDueTimers(context.Background(), h.now.Add(time.Hour), 10); n != 0 {
		t.Errorf("fired %d more", n)
	}
}

func TestHandoffTimeoutEffects(t *testing.T) {
	h := handoffHarness(t)
	h.say(alice, "hi")
	effects := h.say(alice, "billing") // its own timeout, 30m, and resume state, done
	if ho := effects[len(effects)-1].Handoff; ho == nil || ho.Queue != "billing" || ho.Resume != "done" || !ho.Until.Equal(h.now.Add(30*time.Minute)) {
		t.Fatalf("billing handoff %+v", effects)
	}
	h.now = h.now.Add(30 * time.Minute)
	effects = h.fireTimers()
	if got := effectKinds(effects); !slices.Equal(got, []bot.EffectKind{bot.EffectHandoffEnded, bot.EffectMessage, bot.EffectMessage}) {
		t.Fatalf("timeout effects %v", got)
	}
	end := effects[0].HandoffEnded
	if end.Reason != bot.HandoffTimedOut || end.Queue != "billing" || end.Resume != "done" || !end.At.Equal(h.now) {
		t.Errorf("end %+v", end)
	}
	en, _ := bot.HandoffDefaults("en")
	if r := replies(effects); r[0] != strings.ReplaceAll(en.TimedOut, "{business}", "Acme") || r[1] != "All set. Reply AGENT for a person." {
		t.Errorf("timeout replies %q", r)
	}
	if effects[1].Sender != "15550001111" {
		t.Errorf("timeout notice from sender %q, want the business's default sender", effects[1].Sender)
	}
	if s := h.session(alice); s.Conversation.State != "done" {
		t.Errorf("resumed in %q, want done", s.Conversation.State)
	}
}

func TestHandoffByTimerGoesThroughTheGuard(t *testing.T) {
	h := handoffHarness(t)
	h.say(alice, "hi")
	h.say(alice, "callback")
	// The provider reports the window closed: the bot's notice is refused,
	// not dropped; the handoff still happens.
	if _, err := h.svc.HandleDeliveryUpdate(context.Background(), bot.DeliveryUpdate{ID: "st-1", Business: "acme",
		Customer: alice, Status: "failed", ErrorCode: "131047", Signal: bot.SignalWindowClosed, At: h.now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	h.now = h.now.Add(10 * time.Minute)
	effects := h.fireTimers()
	if got := effectKinds(effects); !slices.Equal(got, []bot.EffectKind{bot.EffectRefused, bot.EffectHandoff}) {
		t.Fatalf("effects %v, want the notice refused and the handoff", got)
	}
	if effects[0].Refusal.Reason != bot.ReasonWindowClosed || effects[1].Handoff.Queue != "callbacks" || effects[1].Handoff.Resume != "menu" {
		t.Errorf("effects %+v %+v", effects[0].Refusal, effects[1].Handoff)
	}
}

func TestAgentHandsBack(t *testing.T) {
	h := handoffHarness(t)
	h.say(alice, "hi")
	h.say(alice, "agent")
	effects := mustRelease(h, alice, "rel-1")
	if got := effectKinds(effects); !slices.Equal(got, []bot.EffectKind{bot.EffectHandoffEnded, bot.EffectMessage, bot.EffectMessage}) {
		t.Fatalf("release effects %v", got)
	}
	end := effects[0].HandoffEnded
	if end.Reason != bot.HandoffReleased || end.Queue != "front-desk" || end.Resume != "menu" || end.Agent != "maria" {
		t.Errorf("end %+v", end)
	}
	en, _ := bot.HandoffDefaults("en")
	if r := replies(effects); r[0] != strings.ReplaceAll(en.Released, "{business}", "Acme") || !strings.HasPrefix(r[1], "Menu:") {
		t.Errorf("release replies %q", r)
	}
	s := h.session(alice)
	if s.Conversation.Handoff != "" || s.Conversation.State != "menu" || len(handoffTimers(s)) != 0 {
		t.Errorf("after release %+v", s.Conversation)
	}
	// The bot listens again.
	if ev := consentOf(h.say(alice, "news")); len(ev) != 1 {
		t.Errorf("after release NEWS: %+v", ev)
	}
	// Idempotent: the same release again changes nothing.
	if again, err := h.release(alice, "rel-1", ""); err != nil || len(again) != 0 {
		t.Errorf("repeated release = %v, %v", kinds(again), err)
	}
	// A release with nothing to release is refused as bad input.
	_, err := h.release(alice, "rel-2", "")
	if !errors.Is(err, bot.ErrNoHandoff) || !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("release without a handoff: %v", err)
	}
}

func TestAgentHandsBackToAState(t *testing.T) {
	h := handoffHarness(t)
	h.say(alice, "hi")
	h.say(alice, "agent")
	if _, err := h.release(alice, "rel-x", "nowhere"); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("release to an unknown state: %v", err)
	}
	if h.session(alice).Conversation.Handoff == "" {
		t.Fatal("a refused release ended the handoff")
	}
	effects, err := h.release(alice, "rel-1", "done")
	if err != nil {
		t.Fatal(err)
	}
	if r := replies(effects); len(r) != 2 || r[1] != "All set. Reply AGENT for a person." {
		t.Errorf("release to done %q", r)
	}
	if s := h.session(alice); s.Conversation.State != "done" {
		t.Errorf("state %q", s.Conversation.State)
	}
}

func TestHandoffValidation(t *testing.T) {
	h := handoffHarness(t)
	for _, r := range []bot.HandoffRelease{
		{Business: "acme", Customer: alice},
		{ID: "r", Business: "acme", Customer: "not a number"},
		{ID: "r", Business: "nope", Customer: alice},
	} {
		if _, err := h.svc.HandleHandoffRelease(context.Background(), r); !errors.Is(err, bot.ErrBadInput) {
			t.Errorf("release %+v: %v, want bad input", r, err)
		}
	}
}

func TestLapsedHandoffResumesOnTheNextMessage(t *testing.T) {
	// The timer scheduler was down: the customer writes after the
	// timeout. The bot resumes and shows the state's prompt; the message,
	// written for an agent, is not taken as an answer to it.
	h := handoffHarness(t)
	h.say(alice, "hi")
	h.say(alice, "agent")
	h.now = h.now.Add(2 * time.Hour)
	effects := h.say(alice, "news")
	if got := effectKinds(effects); !slices.Equal(got, []bot.EffectKind{bot.EffectHandoffEnded, bot.EffectMessage, bot.EffectMessage}) {
		t.Fatalf("effects %v", got)
	}
	if effects[0].HandoffEnded.Reason != bot.HandoffTimedOut || consentOf(effects) != nil {
		t.Errorf("effects %+v", effects)
	}
	if s := h.session(alice); s.Conversation.State != "menu" || s.Conversation.Handoff != "" {
		t.Errorf("conversation %+v", s.Conversation)
	}
}

func TestHandoffStoredBeforeTimeoutsResumes(t *testing.T) {
	// A handoff stored by an older engine has no timer: it times out an
	// hour after the customer's previous message, and resumes at the start.
	h := handoffHarness(t)
	h.say(alice, "hi")
	if err := h.store.Commit(context.Background(), bot.Turn{Business: "acme", Customer: alice, At: h.now,
		Conversation: bot.Conversation{Handoff: "front-desk", LastInboundAt: h.now}}); err != nil {
		t.Fatal(err)
	}
	h.now = h.now.Add(10 * time.Minute)
	if got := effectKinds(h.say(alice, "hello?")); !slices.Equal(got, []bot.EffectKind{bot.EffectHandoffMessage}) {
		t.Errorf("within the timeout %v", got)
	}
	if ts := handoffTimers(h.session(alice)); len(ts) != 1 || ts[0].Handoff.Resume != "menu" {
		t.Errorf("timers %+v, want the handoff to get its timeout", ts)
	}
	if err := h.store.Commit(context.Background(), bot.Turn{Business: "acme", Customer: alice, At: h.now,
		Conversation: bot.Conversation{Handoff: "front-desk", LastInboundAt: h.now}}); err != nil {
		t.Fatal(err)
	}
	h.now = h.now.Add(3 * time.Hour)
	effects := h.say(alice, "hi again")
	if len(effects) != 3 || effects[0].HandoffEnded == nil || !strings.HasPrefix(replies(effects)[1], "Menu:") {
		t.Errorf("after the timeout %v %q", kinds(effects), replies(effects))
	}
	// A release works on it too.
	if err := h.store.Commit(context.Background(), bot.Turn{Business: "acme", Customer: alice, At: h.now,
		Conversation: bot.Conversation{Handoff: "front-desk", LastInboundAt: h.now}}); err != nil {
		t.Fatal(err)
	}
	if effects := mustRelease(h, alice, "legacy"); len(effects) != 3 || effects[0].HandoffEnded.Resume != "menu" {
		t.Errorf("release of an old handoff %v", kinds(effects))
	}
}

func TestProviderStopEndsTheHandoff(t *testing.T) {
	h := handoffHarness(t)
	h.say(alice, "hi")
	h.say(alice, "agent")
	effects, err := h.svc.HandleProviderOptOut(context.Background(), bot.ProviderOptOut{ID: "po-1", Business: "acme",
		Customer: alice, At: h.now, Reason: "21610"})
	if err != nil {
		t.Fatal(err)
	}
	if ended := ofKind(effects, bot.EffectHandoffEnded); len(ended) != 1 || ended[0].HandoffEnded.Reason != bot.HandoffOptedOut {
		t.Errorf("effects %v", kinds(effects))
	}
	if s := h.session(alice); s.Conversation.Handoff != "" || len(handoffTimers(s)) != 0 {
		t.Errorf("conversation %+v", s.Conversation)
	}
}

func TestHandoffConversationOnOldFlowVersion(t *testing.T) {
	// The flow changes during the handoff: the bot resumes on the version
	// the conversation was handed off from.
	f, src := loadTestFlow(t, "handoff.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.say(alice, "agent")
	src2 := []byte(strings.Replace(string(src), "Menu: reply NEWS", "New menu: reply NEWS", 1))
	f2, err := flows.Load("handoff.yaml", src2)
	if err != nil {
		t.Fatal(err)
	}
	h.restart(f2, src2, bot.Caps{})
	effects := mustRelease(h, alice, "r")
	if r := replies(effects); len(r) != 2 || !strings.HasPrefix(r[1], "Menu:") {
		t.Errorf("resumed with %q, want the old version's prompt", r)
	}
}

func effectKinds(effects []bot.Effect) []bot.EffectKind {
	out := make([]bot.EffectKind, len(effects))
	for i, e := range effects {
		out[i] = e.Kind
	}
	return out
}
