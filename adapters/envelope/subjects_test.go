package envelope

import (
	"strings"
	"testing"
	"unicode"
)

func TestToken(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"106540352242922", "106540352242922"},
		{"acme", "acme"},
		{"whatsapp:+15550001111", "whatsapp:+15550001111"},
		{"US.1234", "US%2E1234"},
		{"a*b>c", "a%2Ab%3Ec"},
		{"50%", "50%25"},
		{"two words\tand\nlines", "two%20words%09and%0Alines"},
		{"", "_"},
		{"_", "%5F"},
		{"a_b", "a_b"},
		{"café", "café"},
		{"nbsp\u00a0x", "nbsp%C2%A0x"},
		{"bad\xffutf8", "bad%FFutf8"},
	} {
		if got := Token(tt.in); got != tt.want {
			t.Errorf("Token(%q) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := ParseToken(Token(tt.in))
		if err != nil || back != tt.in {
			t.Errorf("ParseToken(Token(%q)) = %q, %v", tt.in, back, err)
		}
	}
	for _, bad := range []string{"%", "%4", "%zz"} {
		if _, err := ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%q): no error", bad)
		}
	}
}

func FuzzToken(f *testing.F) {
	for _, s := range []string{"", "_", "US.1234", "a b", "%41", "\xff", "x>y*z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := Token(s)
		if tok == "" || strings.ContainsAny(tok, ".*>") || strings.ContainsFunc(tok, unicode.IsSpace) || strings.ContainsFunc(tok, unicode.IsControl) {
			t.Fatalf("Token(%q) = %q is not a safe token", s, tok)
		}
		back, err := ParseToken(tok)
		if err != nil || back != s {
			t.Fatalf("ParseToken(Token(%q)) = %q, %v", s, back, err)
		}
	})
}

func TestSubjects(t *testing.T) {
	var zero Subjects
	if got := zero.Inbound("106540352242922"); got != "optinbot.v1.inbound.106540352242922" {
		t.Errorf("zero Subjects: %s", got)
	}
	s, err := NewSubjects("test_ab12")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ got, want string }{
		{s.Inbound("US.1"), "test_ab12.v1.inbound.US%2E1"},
		{s.Send("acme"), "test_ab12.v1.send.acme"},
		{s.Status("1065"), "test_ab12.v1.status.1065"},
		{s.Outbound("1065"), "test_ab12.v1.outbound.1065"},
		{s.Consent("acme"), "test_ab12.v1.consent.acme"},
		{s.Decision("acme"), "test_ab12.v1.decision.acme"},
		{s.All(SubjectOutbound), "test_ab12.v1.outbound.>"},
		{s.Signal("1065"), "test_ab12.v1.signal.1065"},
		{s.Event("1065"), "test_ab12.v1.event.1065"},
		{s.DeadLetter("meta"), "test_ab12.v1.deadletter.meta"},
		{s.Delivery("acme"), "test_ab12.v1.delivery.acme"},
		{s.Notice("acme"), "test_ab12.v1.notice.acme"},
		{s.Alert("acme"), "test_ab12.v1.alert.acme"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
	kind, key, ok := s.Parse(s.Inbound("acme.main"))
	if !ok || kind != SubjectInbound || key != "acme.main" {
		t.Errorf("Parse: %v %q %v", kind, key, ok)
	}
	for _, bad := range []string{"other.v1.inbound.x", "test_ab12.v1.inbound", "test_ab12.v1.inbound.a.b", "test_ab12.v2.inbound.x"} {
		if _, _, ok := s.Parse(bad); ok {
			t.Errorf("Parse(%q) ok", bad)
		}
	}
	if d, _ := NewSubjects("staging.optinbot"); d.Send("a") != "staging.optinbot.v1.send.a" {
		t.Errorf("dotted prefix: %s", d.Send("a"))
	}
	for _, bad := range []string{".x", "x.", "a..b", "a*", "a>", "a b", "50%"} {
		if _, err := NewSubjects(bad); err == nil {
			t.Errorf("NewSubjects(%q): no error", bad)
		}
	}
}
