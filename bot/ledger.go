package bot

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/optinbot/optinbot/flows"
)

// LedgerHashVersion names the canonical encoding ChainHash hashes. It is
// part of every hash, so a future encoding can never collide with this one.
const LedgerHashVersion = "optinbot-ledger-v1"

// lengthPrefixed hashes fields so that no two different lists encode
// alike: each is its length (8 bytes, big-endian) and its bytes.
func lengthPrefixed(fields ...string) []byte {
	h := sha256.New()
	var n [8]byte
	for _, s := range fields {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return h.Sum(nil)
}

// The personal data of an event (who, their words, the message ids that
// encode their number, the prompt that may hold their name) enters the
// chain only through PIIDigest, a salted hash. Erasing a customer removes
// those fields and the salt and keeps the digest, so the chain still
// verifies while nothing left can be matched back to the person.

// PIIDigest is the salted SHA-256 of the event's personal data: customer,
// id, inbound id, the customer's words and the prompt. It needs PIISalt.
func (e ConsentEvent) PIIDigest() string {
	return hex.EncodeToString(lengthPrefixed(LedgerHashVersion+"/pii", e.PIISalt,
		string(e.Customer), e.ID, e.InboundID, e.InboundText, e.Prompt))
}

// ChainHash is the event's link in its business's hash chain: SHA-256 over
// the hash of the business's previous event (prev, "" for the first), every
// evidence field of the event and the digest of its personal data
// (PIIDigestHex), each length-prefixed. Times count at microsecond
// precision, the precision the stores keep. The result is lowercase hex.
//
// The chain makes the ledger tamper-evident: changing, inserting or
// removing any event changes the hash of every later one, which no longer
// matches what was recorded.
func (e ConsentEvent) ChainHash(prev string) string {
	return hex.EncodeToString(lengthPrefixed(LedgerHashVersion, prev,
		string(e.Business), e.Sender, e.Channel, string(e.Topic), string(e.Category), string(e.Status),
		string(e.Source), e.Trigger, e.Language, e.FlowName, e.FlowVersion,
		micros(e.ProviderAt), micros(e.At), e.PIIDigestHex))
}

// Seal links the event into its business's chain after prev: it salts and
// digests the personal data and sets PrevHash and Hash. salt must be fresh
// random bytes; the stores call Seal when they append the event.
func (e *ConsentEvent) Seal(prev string, salt []byte) {
	e.PIISalt = hex.EncodeToString(salt)
	e.PIIDigestHex = e.PIIDigest()
	e.PrevHash = prev
	e.Hash = e.ChainHash(prev)
}

// NewPIISalt returns a fresh salt for Seal.
func NewPIISalt() []byte {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails
	return salt
}

// Erased reports whether the event's personal data was erased: no salt,
// the customer and the id empty or an erase's marker (ErasedPrefix, see
// EraseEvent), and the other personal fields empty. The chain cannot check
// an erased event's personal fields (nothing is left to digest), only that
// no personal data is left in them.
func (e ConsentEvent) Erased() bool {
	return e.PIISalt == "" && erasedField(string(e.Customer)) && erasedField(e.ID) &&
		e.InboundID == "" && e.InboundText == "" && e.Prompt == ""
}

func erasedField(s string) bool { return s == "" || isErasedID(s) }

// micros encodes a time for hashing: Unix microseconds in UTC, "" for the
// zero time.
func micros(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UTC().Truncate(time.Microsecond).UnixMicro(), 10)
}

// LedgerEntry is a consent event as the ledger stored it: its position in
// the whole ledger and the links of its business's hash chain.
type LedgerEntry struct {
	Seq   int64        `json:"seq"`
	Event ConsentEvent `json:"event"`
}

// ChainBreak is the first place a ledger's hash chain does not hold.
type ChainBreak struct {
	Seq      int64      `json:"seq"`
	EventID  string     `json:"event_id"`
	Business BusinessID `json:"business"`
	Reason   string     `json:"reason"`
}

func (b *ChainBreak) Error() string {
	return fmt.Sprintf("ledger chain of business %s broken at seq %d (event %s): %s", b.Business, b.Seq, b.EventID, b.Reason)
}

// ChainVerifier recomputes the hash chains of a ledger read in commit
// order, one chain per business. The zero value is ready to use.
type ChainVerifier struct {
	heads  map[BusinessID]string
	events int
}

// Add checks the next entry of the ledger against the chain so far. It
// returns a *ChainBreak for the first entry whose recorded links do not
// match: an edited event (its hash no longer matches its fields), an event
// inserted or removed before it (its previous hash is not the business's
// last hash), or an event with no hash at all.
func (v *ChainVerifier) Add(entry LedgerEntry) error {
	if v.heads == nil {
		v.heads = map[BusinessID]string{}
	}
	ev := entry.Event
	broken := func(reason string) error {
		return &ChainBreak{Seq: entry.Seq, EventID: ev.ID, Business: ev.Business, Reason: reason}
	}
	prev := v.heads[ev.Business]
	switch {
	case ev.Hash == "":
		return broken("the event has no hash")
	case !ev.Erased() && ev.PIIDigest() != ev.PIIDigestHex:
		return broken(fmt.Sprintf("the event's personal data (customer, words, prompt, ids) digests to %s, not to the recorded %s: it was changed after it was recorded",
			short(ev.PIIDigest()), short(ev.PIIDigestHex)))
	case ev.PrevHash != prev:
		if prev == "" {
			return broken(fmt.Sprintf("the event links to %s but is the first of its business: an earlier event was removed", short(ev.PrevHash)))
		}
		return broken(fmt.Sprintf("the event links to %s, but the business's previous event hashes to %s: an event before it was removed, inserted or changed",
			short(ev.PrevHash), short(prev)))
	case ev.ChainHash(prev) != ev.Hash:
		return broken(fmt.Sprintf("the event's fields hash to %s, not to the recorded %s: the event was changed after it was recorded",
			short(ev.ChainHash(prev)), short(ev.Hash)))
	}
	v.heads[ev.Business] = ev.Hash
	v.events++
	return nil
}

// Events is how many events verified so far.
func (v *ChainVerifier) Events() int { return v.events }

// Heads are the last hash of each business's chain so far: publish them
// elsewhere (a ticket, an email, a notary) to make even a rewrite of the
// whole chain evident.
func (v *ChainVerifier) Heads() map[BusinessID]string { return v.heads }

func short(hash string) string {
	if hash == "" {
		return `""`
	}
	if len(hash) > 12 {
		return hash[:12] + "…"
	}
	return hash
}

// LedgerReader reads a whole ledger in commit order, and the heads of its
// chains as the store recorded them.
type LedgerReader interface {
	Ledger(ctx context.Context, after int64, limit int) ([]LedgerEntry, error)
	LedgerHeads(ctx context.Context) (map[BusinessID]string, error)
}

// LedgerReport is the outcome of VerifyLedger.
type LedgerReport struct {
	Events int                   `json:"events"`
	Heads  map[BusinessID]string `json:"heads"`
	// Break is the first link that does not hold; nil when every chain
	// holds.
	Break *ChainBreak `json:"break,omitempty"`
}

// VerifyLedger recomputes every business's hash chain and reports the first
// broken link. Besides edited, inserted and removed events it finds events
// cut off the end of a chain: the head the store recorded on its last
// append must be an event of the chain. Appends while it runs are fine.
func VerifyLedger(ctx context.Context, r LedgerReader, pageSize int) (LedgerReport, error) {
	// The heads first: events appended later only extend the chains.
	recorded, err := r.LedgerHeads(ctx)
	if err != nil {
		return LedgerReport{}, fmt.Errorf("verify ledger: %w", err)
	}
	reached := map[BusinessID]bool{}
	var v ChainVerifier
	var last LedgerEntry
	for after := int64(0); ; {
		page, err := r.Ledger(ctx, after, pageSize)
		if err != nil {
			return LedgerReport{}, fmt.Errorf("verify ledger: %w", err)
		}
		for _, e := range page {
			if err := v.Add(e); err != nil {
				brk, _ := errors.AsType[*ChainBreak](err)
				return LedgerReport{Events: v.Events(), Heads: v.Heads(), Break: brk}, nil
			}
			if e.Event.Hash == recorded[e.Event.Business] {
				reached[e.Event.Business] = true
			}
			last = e
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].Seq
	}
	for _, business := range slices.Sorted(maps.Keys(recorded)) {
		if head := recorded[business]; head != "" && !reached[business] {
			return LedgerReport{Events: v.Events(), Heads: v.Heads(), Break: &ChainBreak{
				Seq: last.Seq, Business: business,
				Reason: fmt.Sprintf("the store recorded %s as the chain's last hash, but no event hashes to it: events were removed from the end of the ledger",
					short(head)),
			}}, nil
		}
	}
	return LedgerReport{Events: v.Events(), Heads: v.Heads()}, nil
}

// LedgerFilter selects part of one business's ledger.
type LedgerFilter struct {
	Business BusinessID
	Customer CustomerID  // "" for every customer
	Topic    flows.Topic // "" for every topic
	From, To time.Time   // recorded at From or later, before To; zero for no bound
	After    int64       // entries after this seq (paging)
	Limit    int
}
