// Package dialog360 is optinbot's adapter for 360dialog, a WhatsApp
// Business Solution Provider in front of Meta's Cloud API.
//
// The convention: 360dialog forwards Meta's webhook payloads unchanged, so
// parsing is package meta's (meta.ParseBody) with the provider named
// "dialog360"; what differs is the edges. A webhook carries no Meta
// signature on the 360dialog hop, so Verify checks a shared secret that the
// business configures as a custom header on the webhook URL (constant-time
// comparison; no secret configured means every request is refused). Sending
// posts Meta's message body to {BaseURL}/messages with the channel's
// D360-API-KEY header: the key identifies the number, so the path names no
// phone_number_id. There is no GET handshake. An Adapter holds only its
// configuration and is safe for concurrent use.
package dialog360
