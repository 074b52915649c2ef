package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows/examples"
	"github.com/optinbot/optinbot/store/memstore"
)

// testSuppressionKey keys the harness's suppression list.
var testSuppressionKey = []byte("bot tests' suppression key, 32+ bytes")

func (h *harness) suppressed(c bot.CustomerID) bool {
	h.t.Helper()
	on, err := h.store.Suppressed(context.Background(), "acme", bot.CustomerHash(testSuppressionKey, c))
	if err != nil {
		h.t.Fatal(err)
	}
	return on
}

func refusedFor(e bot.Effect, reason bot.Reason) bool {
	return e.Kind == bot.EffectRefused && e.Refusal != nil && e.Refusal.Reason == reason
}

func TestEraseCustomer(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	for _, tc := range []struct {
		name     string
		before   func(h *harness, c bot.CustomerID)
		source   bot.Source
		suppress bool
		// after the erase, a template and a text are refused for this
		after bot.Reason
	}{
		{"opted out, then erased: suppressed", func(h *harness, c bot.CustomerID) { h.say(c, "hi"); h.tap(c, "optin_yes"); h.say(c, "STOP") },
			bot.SourceAPI, true, bot.ReasonSuppressed},
		{"never consented: suppressed", func(h *harness, c bot.CustomerID) { h.say(c, "hi") }, bot.SourceCLI, true, bot.ReasonSuppressed},
		{"never wrote: suppressed", func(*harness, bot.CustomerID) {}, bot.SourceAPI, true, bot.ReasonSuppressed},
		{"opted in: erased, not suppressed, consent gone", func(h *harness, c bot.CustomerID) { h.say(c, "hi"); h.tap(c, "optin_yes") },
			bot.SourceCLI, false, bot.ReasonNoConsent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, f, src, bot.Caps{})
			tc.before(h, alice)
			h.say(bob, "hi") // another customer, untouched
			h.tap(bob, "optin_yes")
			h.now = h.now.Add(time.Minute)

			res, err := h.svc.EraseCustomer(t.Context(), "acme", alice, tc.source)
			if err != nil {
				t.Fatalf("EraseCustomer: %v", err)
			}
			if res.Suppressed != tc.suppress || h.suppressed(alice) != tc.suppress {
				t.Errorf("suppressed: result %v, list %v; want %v", res.Suppressed, h.suppressed(alice), tc.suppress)
			}
			if res.CustomerHash != bot.CustomerHash(testSuppressionKey, alice) || !strings.HasPrefix(res.EventID, "acme/erase:") {
				t.Errorf("result %+v", res)
			}
			if evs := h.ledger(alice); len(evs) != 0 {
				t.Errorf("%d ledger events still name the customer", len(evs))
			}
			erased := h.ledger(bot.ErasedCustomer(res.CustomerHash))
			last := erased[len(erased)-1]
			if last.ID != res.EventID || last.Status != bot.CustomerErased || last.Source != tc.source || last.Customer != bot.ErasedCustomer(res.CustomerHash) {
				t.Errorf("the erase's event is %+v", last)
			}
			for _, ev := range erased[:len(erased)-1] {
				if !ev.Erased() {
					t.Errorf("event %s keeps personal data: %+v", ev.ID, ev)
				}
			}
			if rep, err := bot.VerifyLedger(t.Context(), h.store, 3); err != nil || rep.Break != nil {
				t.Fatalf("the ledger does not verify after the erase: %+v, %v", rep, err)
			}
			if sess := h.consent(alice); len(sess) != 0 {
				t.Errorf("consent after the erase: %v", sess)
			}
			if e := h.send(alice, bot.KindTemplate, "shipped"); !refusedFor(e, tc.after) {
				t.Errorf("template after the erase: %+v, want refused %s", e, tc.after)
			}
			if e := h.send(bob, bot.KindTemplate, "shipped"); e.Kind != bot.EffectMessage {
				t.Errorf("the other customer's template: %+v, want sent", e)
			}
			if !tc.suppress {
				return
			}
			if e := h.send(alice, bot.KindText, "hello"); !refusedFor(e, bot.ReasonSuppressed) {
				t.Errorf("text after the erase: %+v, want refused suppressed", e)
			}
			// the customer writes in again: the bot answers, and their own
			// YES lifts the suppression
			if r := replies(h.say(alice, "hi")); len(r) == 0 {
				t.Fatal("the bot does not answer a suppressed customer who writes in")
			}
			if !h.suppressed(alice) {
				t.Fatal("writing in lifted the suppression without an opt-in")
			}
			h.tap(alice, "optin_yes")
			if h.suppressed(alice) {
				t.Fatal("the customer's YES in the chat did not lift the suppression")
			}
			if e := h.send(alice, bot.KindTemplate, "shipped"); e.Kind != bot.EffectMessage {
				t.Errorf("template after the new opt-in: %+v, want sent", e)
			}
		})
	}
}

func TestEraseCustomerRefuses(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	for _, tc := range []struct {
		name     string
		business bot.BusinessID
		customer bot.CustomerID
		source   bot.Source
		want     error
	}{
		{"bad number", "acme", "+1", bot.SourceAPI, bot.ErrBadInput},
		{"unknown business", "globex", alice, bot.SourceAPI, bot.ErrBadInput},
		{"not an erase source", "acme", alice, bot.SourceWeb, bot.ErrBadInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := h.svc.EraseCustomer(t.Context(), tc.business, tc.customer, tc.source); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("no key", func(t *testing.T) {
		svc, err := bot.NewService(t.Context(), bot.ServiceConfig{Store: memstore.New(), Logger: zerolog.Nop()},
			[]bot.BusinessConfig{{ID: "acme", Flow: f, Source: src}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.EraseCustomer(t.Context(), "acme", alice, bot.SourceAPI); !errors.Is(err, bot.ErrNoSuppressionKey) {
			t.Errorf("err = %v, want ErrNoSuppressionKey", err)
		}
	})
	t.Run("short key", func(t *testing.T) {
		_, err := bot.NewService(t.Context(), bot.ServiceConfig{Store: memstore.New(), SuppressionKey: []byte("short")},
			[]bot.BusinessConfig{{ID: "acme", Flow: f, Source: src}})
		if err == nil || !strings.Contains(err.Error(), "at least 32") {
			t.Errorf("err = %v, want a short-key error", err)
		}
	})
}
