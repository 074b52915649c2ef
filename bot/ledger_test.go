package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
)

func chainEvent(id string, b bot.BusinessID) bot.ConsentEvent {
	at := time.Date(2026, 1, 1, 9, 0, 0, 123456789, time.UTC)
	return bot.ConsentEvent{ID: id, Business: b, Customer: "+14155550100", Sender: "15550001111", Channel: bot.Channel,
		Topic: "order_updates", Category: "utility", Status: bot.OptedIn, Source: bot.SourceInChannel,
		Trigger: "button optin_yes", InboundID: "wamid." + id, InboundText: "Yes", Prompt: "Updates on WhatsApp?",
		Language: "en", FlowName: "retail", FlowVersion: "v1", ProviderAt: at.Add(-time.Second), At: at}
}

var fixedSalt = []byte("0123456789abcdef")

func sealed(e bot.ConsentEvent, prev string) bot.ConsentEvent {
	e.Seal(prev, fixedSalt)
	return e
}

// The encoding is part of the evidence: a hash recorded today must verify
// in every later version, so the value is pinned.
func TestChainHashPinned(t *testing.T) {
	ev := sealed(chainEvent("ev-1", "acme"), "")
	const want = "b18f11c2bd3b4a4e1b17119e90051a7ebca318e9f2bd71e693f2c7d254efce02"
	if ev.Hash != want {
		t.Errorf("Hash = %s, want %s: the ledger hash encoding changed, and every recorded chain with it", ev.Hash, want)
	}
}

func TestChainHashCoversEveryField(t *testing.T) {
	base := chainEvent("ev-1", "acme")
	h := sealed(base, "prev").Hash
	if sealed(base, "other").Hash == h {
		t.Error("the previous hash does not change the hash")
	}
	if other := base; true {
		other.Seal("prev", []byte("another salt...."))
		if other.Hash == h {
			t.Error("the salt does not change the hash")
		}
	}
	// Nanoseconds below the stores' microsecond precision do not count.
	sub := base
	sub.At = sub.At.Add(200 * time.Nanosecond) // 123456789ns → 123456989ns: the same microsecond
	if sealed(sub, "prev").Hash != h {
		t.Error("a sub-microsecond difference changes the hash")
	}
	for name, change := range map[string]func(*bot.ConsentEvent){
		"id": func(e *bot.ConsentEvent) { e.ID += "x" }, "business": func(e *bot.ConsentEvent) { e.Business += "x" },
		"sender": func(e *bot.ConsentEvent) { e.Sender += "1" }, "customer": func(e *bot.ConsentEvent) { e.Customer += "1" },
		"channel": func(e *bot.ConsentEvent) { e.Channel = "sms" }, "topic": func(e *bot.ConsentEvent) { e.Topic += "x" },
		"category": func(e *bot.ConsentEvent) { e.Category = "marketing" }, "status": func(e *bot.ConsentEvent) { e.Status = bot.OptedOut },
		"source": func(e *bot.ConsentEvent) { e.Source = bot.SourceAPI }, "trigger": func(e *bot.ConsentEvent) { e.Trigger += "x" },
		"inbound id": func(e *bot.ConsentEvent) { e.InboundID += "x" }, "words": func(e *bot.ConsentEvent) { e.InboundText = "No" },
		"prompt": func(e *bot.ConsentEvent) { e.Prompt += "!" }, "language": func(e *bot.ConsentEvent) { e.Language = "es" },
		"flow": func(e *bot.ConsentEvent) { e.FlowName += "x" }, "flow version": func(e *bot.ConsentEvent) { e.FlowVersion += "x" },
		"provider time": func(e *bot.ConsentEvent) { e.ProviderAt = e.ProviderAt.Add(time.Microsecond) },
		"recorded time": func(e *bot.ConsentEvent) { e.At = e.At.Add(time.Microsecond) },
		// Field boundaries: moving text from one field to the next is a change.
		"boundary": func(e *bot.ConsentEvent) { e.InboundText, e.Prompt = e.InboundText+"U", "pdates on WhatsApp?" },
	} {
		e := base
		change(&e)
		if sealed(e, "prev").Hash == h {
			t.Errorf("changing the %s does not change the hash", name)
		}
	}
}

// Erasing the personal data (and the salt) keeps the chain verifiable;
// changing personal data without erasing it does not.
func TestErasedEventStillVerifies(t *testing.T) {
	ev := sealed(chainEvent("ev-1", "acme"), "")
	erased := ev
	erased.PIISalt, erased.Customer, erased.ID, erased.InboundID, erased.InboundText, erased.Prompt = "", "", "", "", "", ""
	var v bot.ChainVerifier
	if err := v.Add(bot.LedgerEntry{Seq: 1, Event: erased}); err != nil {
		t.Errorf("an erased event breaks the chain: %v", err)
	}
	half := ev
	half.PIISalt, half.InboundText = "", "No" // looks half erased, with new words
	var v2 bot.ChainVerifier
	if err := v2.Add(bot.LedgerEntry{Seq: 1, Event: half}); err == nil {
		t.Error("an event with its salt removed and its words changed verifies")
	}
}

func TestChainVerifier(t *testing.T) {
	link := func(evs ...bot.ConsentEvent) []bot.LedgerEntry {
		heads := map[bot.BusinessID]string{}
		out := make([]bot.LedgerEntry, len(evs))
		for i, e := range evs {
			e.Seal(heads[e.Business], fixedSalt)
			heads[e.Business] = e.Hash
			out[i] = bot.LedgerEntry{Seq: int64(i + 1), Event: e}
		}
		return out
	}
	good := link(chainEvent("a1", "acme"), chainEvent("g1", "globex"), chainEvent("a2", "acme"), chainEvent("a3", "acme"))
	for _, tc := range []struct {
		name    string
		entries func() []bot.LedgerEntry
		seq     int64
		reason  string
	}{
		{"intact", func() []bot.LedgerEntry { return good }, 0, ""},
		{"edited", func() []bot.LedgerEntry {
			es := append([]bot.LedgerEntry(nil), good...)
			es[2].Event.InboundText = "No"
			return es
		}, 3, "changed after it was recorded"},
		{"removed", func() []bot.LedgerEntry {
			return append(append([]bot.LedgerEntry(nil), good[:2]...), good[3])
		}, 4, "removed, inserted or changed"},
		{"unhashed", func() []bot.LedgerEntry {
			es := append([]bot.LedgerEntry(nil), good...)
			es[1].Event.Hash = ""
			return es
		}, 2, "no hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v bot.ChainVerifier
			var brk *bot.ChainBreak
			for _, e := range tc.entries() {
				if err := v.Add(e); err != nil {
					brk = err.(*bot.ChainBreak)
					break
				}
			}
			switch {
			case tc.reason == "" && brk != nil:
				t.Errorf("break %v in an intact ledger", brk)
			case tc.reason != "" && (brk == nil || brk.Seq != tc.seq || !strings.Contains(brk.Reason, tc.reason)):
				t.Errorf("break = %v, want seq %d saying %q", brk, tc.seq, tc.reason)
			}
		})
	}
}
