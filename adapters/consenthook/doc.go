// Package consenthook tells a business's own systems of every consent
// change: it reads the business's consent_change envelopes
// (<prefix>.v1.consent.<business> on the OUT stream, published by the
// engine's outbox relay for in-chat YES and STOP, provider marketing stops
// and resumes, and grants from outside the chat) through a durable
// JetStream consumer per business, and POSTs each, as the same JSON, to the
// business's webhook URL:
//
//	POST <url>
//	Content-Type: application/json
//	Optinbot-Signature: t=<unix>,v1=<hex hmac-sha256(secret, t + "." + body)>
//	Idempotency-Key: <the consent change's id>
//
// Guarantees (docs/api.md, "Consent webhooks"):
//
//   - At least once: a change is acknowledged on the bus only after the
//     business answered 2xx, or after it was dead-lettered. A receiver
//     drops repeats by Idempotency-Key.
//   - In order per customer: a customer's changes are posted one at a
//     time, in stream order, and a change waiting for a retry holds back
//     the customer's later ones, so a STOP never overtakes the YES before
//     it. Different customers' changes go in parallel.
//   - Retries: a connection error, a timeout, a 408, a 429 or a 5xx is
//     retried with exponential backoff and full jitter, waiting at least
//     the Retry-After of a 429 or 503. Any other answer (another 4xx, a
//     redirect) is final.
//   - Dead letters: a final refusal, or a change still failing after
//     MaxAttempts attempts or older than MaxAge, is published as a
//     dead_letter on <prefix>.v1.deadletter.consent-webhook (with the body,
//     which holds personal data: that subject is for operators) and then
//     acknowledged.
//
// VerifySignature is the receiver's check of a request. Nothing here logs
// a phone number above debug level, or a message text.
package consenthook
