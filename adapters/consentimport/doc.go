// Package consentimport records WhatsApp opt-ins and opt-outs gathered
// outside the chat (SMS and email campaigns, web forms, live chat,
// sign-up) one at a time, as the business API does, or in bulk from a CSV
// file. Both go through one Record type, one validation and the engine's
// own checks, so an import is held to exactly the standard of a single
// API call.
//
// The engine (bot.Service) has the last word on every record. Validate
// runs the engine's own wording check (bot.GrantWordingGaps) early only to
// report each gap by field; the engine's refusals come back as per-record
// outcomes (see Outcome). Records carry phone numbers; reports carry them
// only redacted.
package consentimport
