package flows

import "testing"

func TestNumbersChoice(t *testing.T) {
	for _, tc := range []struct {
		text string
		n    int
		want bool
	}{
		{"Updates on WhatsApp?\n\n1) Yes\n2) No", 1, true},
		{"Updates on WhatsApp?\n\n1) Yes\n2) No", 2, true},
		{"Updates on WhatsApp?\n\n1) Yes\n2) No", 3, false},
		{"1. Yes 2. No", 2, true},
		{"Choose: 1: English, 2: Español", 2, true},
		{"(1) yes (2) no", 1, true},
		{"[1] yes [2] no", 2, true},
		{"1 - yes, 2 – no", 2, true},
		{"1 = yes", 1, true},
		{"1️⃣ Yes 2️⃣ No", 2, true},
		{"1⃣ Yes", 1, true},
		{"🔟 more", 10, true},
		{"10) Ten", 10, true},
		{"10) Ten", 1, false},
		{"Would you like order updates from Acme on WhatsApp?", 1, false},
		{"Reply 1 for yes", 1, false},
		{"Version 1.5 is out", 1, false},
		{"Open 10:30 to 1:15", 1, false},
		{"We answer 24/7", 2, false},
		{"Step 1 of 3", 1, false},
		{"x1) no", 1, false},
		{"1) yes", 0, false},
		{"11) yes", 11, false},
	} {
		if got := NumbersChoice(tc.text, tc.n); got != tc.want {
			t.Errorf("NumbersChoice(%q, %d) = %v, want %v", tc.text, tc.n, got, tc.want)
		}
	}
}
