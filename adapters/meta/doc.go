// Package meta is optinbot's adapter for the WhatsApp Cloud API (Meta's
// Graph API): it authenticates and normalises webhook bodies into
// envelope.Batch items, answers Meta's GET verification handshake, and sends
// outbound envelopes with POST /{version}/{phone_number_id}/messages.
//
// The convention: a webhook body either does not parse at all (Parse
// returns an error and the webhook server answers 400), or every item in it
// comes out as exactly one envelope — an InboundMessage, DeliveryStatus,
// ConsentSignal, ProviderEvent, or a DeadLetter saying precisely why the item
// could not be normalised. Statuses optinbot does not track ("deleted",
// "played", anything unknown) and fields it does not subscribe to are
// dropped on purpose. Items are unique within a batch by their NATS message
// id, so a body that repeats a message yields it once.
//
// The parser (ParseBody) and the request and response codecs
// (MessageBody, ReadResponse) are exported for adapters of providers that
// forward Meta's payloads unchanged, such as 360dialog (package
// adapters/dialog360). An Adapter holds only its configuration and is safe
// for concurrent use.
package meta
