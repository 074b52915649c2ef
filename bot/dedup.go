package bot

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// DedupID is the id the store remembers a processed input by (Turn.DedupID,
// checked by Store.Processed) and its effects' ids are made of
// ("<business>/<dedup id>/<n>"). Each kind of input has its own namespace,
// so inputs of different kinds never collide, and the store keys it per
// business:
//
//	inbound message          in:<provider>:<customer>:<message id>   in:meta:5c9f0b1e2d3a4f67:wamid.HBgL1
//	timer                    timer:<customer>:<timer id>             timer:5c9f0b1e2d3a4f67:ask#2@1767229200
//	send request             send:<request id>
//	consent grant            grant:<grant id>
//	consent withdrawal       withdraw:<withdrawal id>
//	provider opt-out         provider:<id>
//	handoff release          release:<release id>
//	delivery update,         the id as given: the envelopes namespace
//	marketing preference     them already (status:…, signal:…)
//
// A provider's message id is unique per provider as the provider defines it
// (Meta's and 360dialog's wamid, Twilio's MessageSid), not across providers,
// and a source that makes up its own ids ("m1") may reuse one for every
// customer; a timer's id is unique per customer. So an inbound message is
// the same input only when the provider, the business, the customer and the
// message id are the same, and a timer when the customer and the timer id
// are: the same message id from another customer is another message.
//
// <customer> is the first 16 hex digits of the SHA-256 of the customer id,
// so that ids, which effect ids, logs and NATS headers carry, hold no phone
// number. <provider> is escaped (":" and "%" as %3A and %25) so that the
// parts cannot run into each other; it is empty for inputs that come from
// no provider (simulate, tests). Send requests and grants keep the
// business's own ids, unique per business.
//
// Before this scheme an inbound message's dedup id was its message id
// alone, and a timer's "timer:<timer id>"; Service still honours the
// former (see LegacyDedupID).
func DedupID(kind InputKind, provider string, customer CustomerID, id string) string {
	switch kind {
	case InputInbound:
		return "in:" + escapeDedupPart(provider) + ":" + customerTag(customer) + ":" + id
	case InputTimer:
		return "timer:" + customerTag(customer) + ":" + id
	case InputSendRequest:
		return "send:" + id
	case InputConsentGrant:
		return "grant:" + id
	case InputConsentWithdrawal:
		return "withdraw:" + id
	case InputProviderOptOut:
		return "provider:" + id
	case InputHandoffRelease:
		return "release:" + id
	}
	return id
}

// LegacyDedupID is the dedup id an inbound message was committed under
// before DedupID keyed it on the provider and the customer: its message id
// alone. Processed ids of that form stay in the store until pruned, so a
// message processed before an upgrade and redelivered after it is still
// ignored. Such an id matches the message of any customer of the business,
// as it did before; new ids are never committed in that form.
func LegacyDedupID(id string) string { return id }

// customerTag is the part of a dedup id that names the customer: a digest,
// so no phone number ends up in ids.
func customerTag(c CustomerID) string {
	sum := sha256.Sum256([]byte(c))
	return hex.EncodeToString(sum[:8])
}

var dedupPartEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

func escapeDedupPart(s string) string { return dedupPartEscaper.Replace(s) }

// DedupIDsOf returns the LIKE patterns of the dedup ids that name the
// customer (inbound messages and timers): what an erase forgets with the
// customer. The customer part is hex, so it holds no LIKE wildcard.
func DedupIDsOf(customer CustomerID) (inbound, timer string) {
	tag := customerTag(customer)
	return "in:%:" + tag + ":%", "timer:" + tag + ":%"
}

// DedupIDNames reports whether a dedup id names the customer: the
// patterns of DedupIDsOf, for stores that match ids in code.
func DedupIDNames(id string, customer CustomerID) bool {
	tag := customerTag(customer)
	if strings.HasPrefix(id, "timer:"+tag+":") {
		return true
	}
	rest, ok := strings.CutPrefix(id, "in:")
	if !ok {
		return false
	}
	_, after, ok := strings.Cut(rest, ":") // the escaped provider holds no ':'
	return ok && strings.HasPrefix(after, tag+":")
}
