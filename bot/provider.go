package bot

import "time"

// The signals a provider's delivery status may carry about a customer.
const (
	// SignalWindowClosed: the customer service window is closed; no
	// free-form message until the customer writes again.
	SignalWindowClosed = "window_closed"
	// SignalUndeliverable: the customer may have blocked the business or
	// left WhatsApp; business-initiated messages are held until they write
	// again.
	SignalUndeliverable = "undeliverable"
	// SignalDeferred: the provider limited marketing to this customer for
	// now; the sender tries again later.
	SignalDeferred = "deferred"
	// SignalStopMarketing: the customer stopped marketing messages in the
	// app; a provider opt-out of the business's marketing topics.
	SignalStopMarketing = "stop_marketing"
	// SignalOptedOut: the customer opted out of every message; a provider
	// opt-out of every topic, which START does not undo.
	SignalOptedOut = "opted_out"
)

// The delivery statuses, in the order a message moves through them.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// statusRank orders statuses so a message never moves backwards: a
// "delivered" that arrives after "read" is stale. failed is final.
func statusRank(s string) int {
	switch s {
	case StatusSent:
		return 1
	case StatusDelivered:
		return 2
	case StatusRead:
		return 3
	case StatusFailed:
		return 4
	}
	return 0
}

// DeliveryUpdate is a provider's status for a message the business sent.
type DeliveryUpdate struct {
	ID         string // the status's own id, for redelivery: "status:<message>:<status>"
	MessageID  string // the provider's message id
	OutboundID string // optinbot's outbound id, when known
	Business   BusinessID
	Sender     string
	Customer   CustomerID
	Status     string // sent, delivered, read or failed
	At         time.Time
	ErrorCode  string
	ErrorTitle string
	Signal     string // one of the Signal* constants, or ""
}

// MarketingPreference is the customer's choice in WhatsApp itself to stop
// or resume marketing messages from the business.
type MarketingPreference struct {
	ID       string
	Business BusinessID
	Sender   string
	Customer CustomerID
	Stop     bool // false: resume
	At       time.Time
	Detail   string
}

// Delivery is a status change for the business's systems: only forward
// moves are published (a late "delivered" after "read" is dropped).
type Delivery struct {
	MessageID  string    `json:"message_id"`
	OutboundID string    `json:"outbound_id,omitempty"`
	Status     string    `json:"status"`
	At         time.Time `json:"at"`
	ErrorCode  string    `json:"error_code,omitempty"`
	ErrorTitle string    `json:"error_title,omitempty"`
	Signal     string    `json:"signal,omitempty"`
}

// Notice tells the business's systems about a customer-level fact the
// engine recorded without changing consent: the window closed early, sends
// are held, marketing was resumed in the app (which re-grants nothing), a
// consent grant was refused.
type Notice struct {
	Kind   string    `json:"kind"` // one of the Notice* constants
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
	// Grant is the refused grant, for NoticeGrantRefused.
	Grant *GrantRefusal `json:"grant,omitempty"`
}

// The notices.
const (
	NoticeWindowClosed     = "window_closed"
	NoticeHeld             = "held_undeliverable"
	NoticeDeferred         = "deferred"
	NoticeMarketingResumed = "marketing_resumed"
	// NoticeMarketingStopped: the customer stopped marketing in the app,
	// and the business has no marketing topic to end.
	NoticeMarketingStopped = "marketing_stopped"
)
