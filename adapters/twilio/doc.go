// Package twilio is optinbot's adapter for WhatsApp through Twilio
// Programmable Messaging. One Adapter is both sides of the provider:
//
//   - the webhook side (package adapters/webhook's Provider and
//     Acknowledger): Verify checks X-Twilio-Signature, Parse turns Twilio's
//     form-encoded incoming-message webhooks and status callbacks into
//     envelope.Batch items, Acknowledge answers with empty TwiML;
//   - the sending side (package adapters/sender's Client): Send posts an
//     outbound_message to the Messages API and returns its SID.
//
// # Webhooks
//
// Twilio posts one message or one status per request, so a batch holds at
// most one item. An incoming message becomes an InboundMessage:
//
//	id            MessageSid (SmsMessageSid, SmsSid)
//	sender        To without "whatsapp:": the business's WhatsApp number
//	from          From without "whatsapp:" (a number, + optional, or a WhatsApp
//	              user id); when From is empty, WaId, then ExternalUserId
//	phone         WaId, when from is a user id
//	timestamp     the time the webhook was received (Twilio sends none)
//	text          Body
//	contact_name  ProfileName
//	reply_to      OriginalRepliedMessageSid
//	kind          interactive + button{ListId, ListTitle} for a list reply;
//	              button + button{ButtonPayload, ButtonText} for a quick
//	              reply (interactive when MessageType says so; the title
//	              stands in for a missing payload); image, audio, video,
//	              document, sticker or contacts + media{MediaUrl0,
//	              MediaContentType0, caption Body} for media; location +
//	              location{Latitude, Longitude, Label, Address}; text when
//	              Body is set; unsupported otherwise.
//
// Media URLs are Twilio's; downloading them needs the account's basic auth
// when media authentication is on.
//
// A status callback (MessageStatus) becomes a DeliveryStatus: sent,
// delivered, read, failed; undelivered and canceled are failed. queued,
// accepted, scheduled, sending and receiving give an empty batch. id is
// MessageSid, sender the From number (else MessagingServiceSid, else
// Config.DefaultSender), to the customer (To, else ChannelToAddress),
// error_code and error_title ErrorCode and ErrorMessage, timestamp
// RawDlrDoneDate when present, else the time received. Error 63016 carries
// the signal window_closed; 21610 (the customer replied STOP to the
// number) opted_out with customer_opted_out set.
//
// An item that cannot be normalised (a From that is neither a number nor a
// WhatsApp user id, an unknown status, no To…) is a DeadLetter with the
// reason. Parse fails (ErrBody: the webhook server answers 400) only for a
// body that is not form-encoded or has no MessageSid.
//
// Verify rebuilds the URL Twilio called from Config.PublicURL, or from the
// request (X-Forwarded-Proto or TLS, Host, path and query), and accepts a
// signature computed with or without the default port.
//
// # Sending
//
// A text is sent as Body; its quick-reply buttons, which Twilio only sends
// through Content templates, become numbered lines after the text ("1) Yes
// please"). A template is sent as the ContentSid configured for its name
// and language (Config.Templates), with the message's params as
// ContentVariables. Errors are *envelope.SendError with Twilio's code:
// retryable for HTTP 5xx, 429 and 408 and codes 20429 and 63018, signal
// window_closed for 63016 and opted_out for 21610.
//
// docs/adapters/twilio.md says how to point a Twilio WhatsApp sender at
// optinbot. An Adapter is safe for concurrent use; it never logs.
package twilio
