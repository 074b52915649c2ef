package bot_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/memstore"
)

// unsupported is a message Meta could not pass on (issue 10, item 7).
func unsupported(id string, c bot.CustomerID, at time.Time) bot.Inbound {
	return bot.Inbound{ID: id, Provider: "meta", Sender: "15550001111", Customer: c, Timestamp: at, Unsupported: true,
		ProviderErrors: []bot.ProviderError{{Code: "131051", Title: "Unsupported message type", Details: "Message type is not currently supported"}}}
}

// TestUnsupportedMessageIsNoAnswer: a message the provider could not pass
// on opens the window but takes no transition (not even else): the
// question is asked again. A customer with no conversation gets the start
// prompt, as for any first message.
func TestUnsupportedMessageIsNoAnswer(t *testing.T) {
	f, src := loadExample(t, "retail.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	welcome := replies(h.inbound(unsupported("wamid.u1", alice, h.now)))
	if len(welcome) != 1 || !strings.Contains(welcome[0], "Would you like to get updates") {
		t.Fatalf("first message unsupported: replies %q, want the welcome prompt", welcome)
	}
	h.now = h.now.Add(time.Minute)
	again := h.inbound(unsupported("wamid.u2", alice, h.now))
	if got := replies(again); len(got) != 1 || got[0] != welcome[0] {
		t.Errorf("unsupported answer: replies %q, want the question again %q", got, welcome[0])
	}
	if len(consentOf(again)) != 0 {
		t.Errorf("unsupported answer recorded consent: %+v", consentOf(again))
	}
	s, err := h.store.LoadSession(context.Background(), "acme", alice, h.now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Conversation.State != "welcome" || !s.Conversation.LastInboundAt.Equal(h.now) {
		t.Errorf("state %q, last inbound %v; want welcome (the else transition to unclear not taken) and %v",
			s.Conversation.State, s.Conversation.LastInboundAt, h.now)
	}
	// Text the customer writes next is an answer as usual.
	if got := replies(h.say(alice, "yes")); len(got) != 1 || h.consent(alice)["order_updates"] != bot.OptedIn {
		t.Errorf("yes after an unsupported message: %q, consent %v", got, h.consent(alice))
	}
}

// TestProviderErrorsLogged: the provider's error code and title are logged
// at info level, without the customer's number or any text.
func TestProviderErrorsLogged(t *testing.T) {
	f, src := loadExample(t, "retail.yaml")
	var logs bytes.Buffer
	svc, err := bot.NewService(context.Background(), bot.ServiceConfig{Store: memstore.New(), Clock: func() time.Time { return t0 },
		Logger: zerolog.New(&logs).Level(zerolog.InfoLevel)},
		[]bot.BusinessConfig{{ID: "acme", Flow: f, Source: src, Senders: []string{"15550001111"}}})
	if err != nil {
		t.Fatal(err)
	}
	in := unsupported("wamid.u1", alice, t0)
	in.Text = "leftover body"
	for range 2 { // the redelivery is not logged again
		if _, err := svc.HandleInbound(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	out := logs.String()
	if strings.Count(out, `"code":"131051"`) != 1 || !strings.Contains(out, `"title":"Unsupported message type"`) ||
		!strings.Contains(out, `"level":"info"`) || !strings.Contains(out, `"provider":"meta"`) {
		t.Errorf("provider error not logged once at info with its code and title:\n%s", out)
	}
	for _, secret := range []string{"4155550100", "leftover body", "wamid.u1"} {
		if strings.Contains(out, secret) {
			t.Errorf("log holds %q:\n%s", secret, out)
		}
	}
}
