// Package consentimport records WhatsApp opt-ins and opt-outs gathered
// outside the chat (SMS and email campaigns, web forms, live chat,
// sign-up) one at a time, as the business API does, or in bulk from a CSV
// file. Both go through one Record type, one validation and the engine's
// own checks, so an import is held to exactly the standard of a single
// API call.
//
// Nothing here decides consent: the engine (bot.Service) does, and its
// refusals come back as per-record outcomes (see Outcome). Records carry
// phone numbers; reports and logs carry them only redacted.
package consentimport
