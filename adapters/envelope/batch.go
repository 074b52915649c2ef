package envelope

// Batch is what one provider webhook body normalises to. A provider adapter
// fills it; the webhook server publishes every item durably before it
// acknowledges the webhook.
type Batch struct {
	Inbound     []InboundMessage
	Statuses    []DeliveryStatus
	Signals     []ConsentSignal
	Events      []ProviderEvent
	DeadLetters []DeadLetter
}

// Len is the number of items in the batch.
func (b Batch) Len() int {
	return len(b.Inbound) + len(b.Statuses) + len(b.Signals) + len(b.Events) + len(b.DeadLetters)
}
