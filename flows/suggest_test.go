package flows

import "testing"

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"prompt", "prompt", 0},
		{"promt", "prompt", 1},
		{"prmopt", "prompt", 1}, // a swap is one edit
		{"", "abc", 3},
		{"kitten", "sitting", 3},
		{"welcôme", "welcome", 1}, // runes, not bytes
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	tests := []struct {
		name       string
		candidates []string
		want       string
	}{
		{"promt", stateKeys, "prompt"},
		{"Prompt", stateKeys, "prompt"},
		{"onn", stateKeys, "on"},
		{"id", transitionKeys, ""},     // 2 edits from "end", but that is the whole word
		{"go", transitionKeys, "goto"}, // 2 edits of 4 letters
		{"colour", stateKeys, ""},
		{"welcom", []string{"welcome", "welcomed"}, "welcome"},
		{"x", nil, ""},
	}
	for _, tt := range tests {
		if got := closest(tt.name, tt.candidates); got != tt.want {
			t.Errorf("closest(%q, %q) = %q, want %q", tt.name, tt.candidates, got, tt.want)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"welcome", "'welcome'"},
		{"it's", `"it's"`},
		{"a\nb", `"a\nb"`},
		{"\xff", `"\xff"`},
		{"0123456789012345678901234567890123456789extra", "'0123456789012345678901234567890123456789…'"},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
