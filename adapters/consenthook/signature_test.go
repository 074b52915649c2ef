package consenthook

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSignatureRoundTrip(t *testing.T) {
	body := []byte(`{"v":1,"type":"consent_change","id":"acme/x/0","status":"opted_out"}`)
	at := time.Unix(1767260000, 0)
	h := Sign("whsec_test", at, body)
	if !strings.HasPrefix(h, "t=1767260000,v1=") || len(h) != len("t=1767260000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := VerifySignature("whsec_test", h, body, DefaultTolerance, at.Add(time.Minute)); err != nil {
		t.Fatalf("valid signature: %v", err)
	}
	// Several v1 values while a secret rotates; upper-case hex; spaces.
	rotated := "t=1767260000, v1=" + strings.Repeat("0", 64) + ", v1=" + strings.ToUpper(h[len("t=1767260000,v1="):])
	if err := VerifySignature("whsec_test", rotated, body, DefaultTolerance, at); err != nil {
		t.Errorf("rotated header: %v", err)
	}
}

func TestSignatureRejects(t *testing.T) {
	body := []byte(`{"id":"e1","status":"opted_out"}`)
	at := time.Unix(1767260000, 0)
	good := Sign("s3cret", at, body)
	for _, tc := range []struct {
		name   string
		secret string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"tampered body", "s3cret", good, `{"id":"e1","status":"opted_in"}`, at, ErrBadSignature},
		{"other secret", "other", good, string(body), at, ErrBadSignature},
		{"retimed", "s3cret", strings.Replace(good, "t=1767260000", "t=1767260001", 1), string(body), at, ErrBadSignature},
		{"old timestamp", "s3cret", good, string(body), at.Add(DefaultTolerance + time.Second), ErrStale},
		{"future timestamp", "s3cret", good, string(body), at.Add(-DefaultTolerance - time.Second), ErrStale},
		{"missing header", "s3cret", "", string(body), at, ErrNoSignature},
		{"no v1", "s3cret", "t=1767260000", string(body), at, ErrNoSignature},
		{"no t", "s3cret", good[strings.Index(good, "v1="):], string(body), at, ErrNoSignature},
		{"bad t", "s3cret", strings.Replace(good, "t=1767260000", "t=+1767260000", 1), string(body), at, ErrBadSignature},
		{"two t", "s3cret", "t=1," + good, string(body), at, ErrBadSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifySignature(tc.secret, tc.header, []byte(tc.body), DefaultTolerance, tc.now)
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	// No tolerance: the age is not checked.
	if err := VerifySignature("s3cret", good, body, 0, at.Add(24*time.Hour)); err != nil {
		t.Errorf("tolerance 0: %v", err)
	}
}

func FuzzVerifySignature(f *testing.F) {
	at := time.Unix(1767260000, 0)
	f.Add("s3cret", Sign("s3cret", at, []byte(`{"id":"e1"}`)), []byte(`{"id":"e1"}`))
	f.Add("k", "t=1767260000,v1=zz", []byte("x"))
	f.Add("", "t=,v1=,v1", []byte(""))
	f.Add("k", "t=99999999999999999999,v1=00", []byte("{}"))
	f.Fuzz(func(t *testing.T, secret, header string, body []byte) {
		err := VerifySignature(secret, header, body, DefaultTolerance, at)
		if err != nil && !errors.Is(err, ErrNoSignature) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrStale) {
			t.Fatalf("unclassified error %v", err)
		}
		// What Sign makes always verifies, and a flipped body byte never does.
		h := Sign(secret, at, body)
		if err := VerifySignature(secret, h, body, DefaultTolerance, at); err != nil {
			t.Fatalf("own signature %q: %v", h, err)
		}
		if len(body) > 0 {
			flipped := append([]byte(nil), body...)
			flipped[0] ^= 1
			if err := VerifySignature(secret, h, flipped, DefaultTolerance, at); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("flipped body verified: %v", err)
			}
		}
	})
}

func ExampleVerifySignature() {
	// In the business's receiver: the raw body and the header as received.
	body := []byte(`{"v":1,"type":"consent_change","id":"acme/in:meta:40d3f4e02db27d66:wamid.HBgL1/0","status":"opted_out"}`)
	header := Sign("whsec_from_your_config", time.Unix(1767260000, 0), body) // optinbot does this
	now := time.Unix(1767260030, 0)                                          // time.Now() in a receiver

	err := VerifySignature("whsec_from_your_config", header, body, 5*time.Minute, now)
	fmt.Println("genuine:", err == nil)

	err = VerifySignature("whsec_from_your_config", header, []byte(`{"status":"opted_in"}`), 5*time.Minute, now)
	fmt.Println("tampered:", errors.Is(err, ErrBadSignature))

	err = VerifySignature("whsec_from_your_config", header, body, 5*time.Minute, now.Add(time.Hour))
	fmt.Println("replayed an hour later:", errors.Is(err, ErrStale))
	// Output:
	// genuine: true
	// tampered: true
	// replayed an hour later: true
}
