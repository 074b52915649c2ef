package natsbus

import (
	"testing"

	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
)

// TestRealServer runs the bus tests against the machine's NATS server
// (nats-server 2.9; $OPTINBOT_TEST_NATS_URL, default nats://127.0.0.1:4222),
// each under its own random prefix, deleting its streams afterwards. It
// fails, never skips, when the server is unreachable.
func TestRealServer(t *testing.T) {
	url := natstest.RealServer(t)
	for name, test := range map[string]func(*testing.T, *bus){
		"PublisherDeduplicates":   publisherDeduplicates,
		"AcksAfterSuccess":        consumerAcksAfterSuccess,
		"NaksAndRedelivers":       consumerNaksAndRedelivers,
		"TermsBadInput":           consumerTermsBadInput,
		"PerCustomerOrder":        consumerPerCustomerOrder,
		"Statuses":                consumerStatuses,
		"Signals":                 consumerSignals,
		"Releases":                consumerReleases,
		"PublishBatch":            publishBatch,
		"RunWaitsForInFlight":     consumerRunWaitsForInFlight,
		"RestartKeepsOrder":       consumerRestartKeepsOrder,
		"EndToEnd":                endToEnd,
		"CrashBeforePublish":      crashBeforePublish,
		"CrashAfterPublishBefore": crashAfterPublish,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, connect(t, url))
		})
	}
}
