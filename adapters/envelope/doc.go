// Package envelope defines the versioned JSON messages optinbot exchanges
// over NATS, and the subjects they travel on.
//
// Every envelope is a JSON object with "v":1 and a "type" naming one of the
// message types of this package:
//
//	inbound_message   a customer's message, from a provider adapter
//	send_request      a business asking to message a customer
//	delivery_status   a provider's status for an outbound message (and, on the
//	                  delivery subject, the engine's report of it)
//	consent_signal    a marketing preference the customer set in WhatsApp
//	outbound_message  a message the policy guard allowed, for an adapter to send
//	consent_change    an entry of the consent ledger
//	send_decision     the guard's answer to a send request (or a refused reply)
//	customer_notice   a customer-level fact recorded without a consent change
//	provider_event    an account-level event of the provider (quality, templates)
//	dead_letter       a webhook item an adapter could not normalise
//
// Decode reads any of them and DecodeInbound, DecodeSendRequest… one type.
// Decoding validates: a wrong version, an unknown type, malformed JSON, a
// missing required field, a bad timestamp or customer id, or a value outside
// its enumeration is an *Error naming the field and why. Errors never quote
// message text, and quote a customer id only in its redacted form, so they
// are safe to log. Every *Error also matches bot.ErrBadInput.
//
// Forward compatibility: unknown fields are ignored, so a producer may add an
// optional field without bumping "v". Removing or renaming a field, changing
// its meaning or type, or making it required is a breaking change and bumps
// "v"; a decoder rejects versions it does not know.
//
// Encoding: each type's MarshalJSON writes "v" and "type" first, so a zero
// value plus fields is a complete envelope.
//
// The subjects (see Subjects) are
//
//	<prefix>.v1.inbound.<sender>        InboundMessage    IN
//	<prefix>.v1.send.<business>         SendRequest       IN
//	<prefix>.v1.status.<sender>         DeliveryStatus    IN
//	<prefix>.v1.signal.<sender>         ConsentSignal     IN
//	<prefix>.v1.outbound.<sender>       OutboundMessage   OUT
//	<prefix>.v1.consent.<business>      ConsentChange     OUT
//	<prefix>.v1.decision.<business>     SendDecision      OUT
//	<prefix>.v1.delivery.<business>     DeliveryStatus    OUT
//	<prefix>.v1.notice.<business>       CustomerNotice    OUT
//	<prefix>.v1.event.<sender>          ProviderEvent     OUT
//	<prefix>.v1.deadletter.<provider>   DeadLetter        OUT
//
// with the last token made safe by Token. docs/nats.md is the full contract.
// This package does no I/O and never logs.
package envelope
