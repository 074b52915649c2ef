package meta

import (
	"os"
	"testing"
)

// TestUnsupportedReachesTheEngine: an "unsupported" message keeps Meta's
// error code, title and details through the envelope to the engine's
// Inbound, which takes it for no answer, and a text body that came along
// is not taken for one either.
func TestUnsupportedReachesTheEngine(t *testing.T) {
	body, err := os.ReadFile("testdata/unsupported_details_top_level.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBody(Name, body, receivedAt)
	if err != nil || len(b.Inbound) != 1 {
		t.Fatalf("parse: %d inbound, %v", len(b.Inbound), err)
	}
	in, err := b.Inbound[0].ToBot()
	if err != nil {
		t.Fatal(err)
	}
	if !in.Unsupported || in.Text != "" || len(in.ProviderErrors) != 1 {
		t.Fatalf("inbound %+v, want unsupported, no text, one provider error", in)
	}
	if e := in.ProviderErrors[0]; e.Code != "131051" || e.Title != "Unsupported message type" || e.Details != "Message type is not currently supported" {
		t.Errorf("provider error %+v", e)
	}
	if in.Provider != Name {
		t.Errorf("provider %q, want %q", in.Provider, Name)
	}
}
