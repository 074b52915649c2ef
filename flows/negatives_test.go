package flows

import (
	"slices"
	"strings"
	"testing"
)

// TestNegativeAnswers: the languages the example flows use, and those
// customers of WhatsApp businesses write most, have a list; no list is
// empty or repeats itself.
func TestNegativeAnswers(t *testing.T) {
	for _, lang := range []string{"", "en", "es", "fr", "pt", "de", "it"} {
		list := NegativeAnswers[lang]
		if len(list) == 0 {
			t.Errorf("no negative answers for language %q", lang)
		}
		for i, text := range list {
			if strings.TrimSpace(text) == "" {
				t.Errorf("language %q: answer %d is blank", lang, i+1)
			}
			if slices.Index(list, text) != i {
				t.Errorf("language %q: %q is listed twice", lang, text)
			}
		}
	}
	for _, want := range []string{"no", "nope", "not now", "later", "stop", "no thanks", "never", "what?", "?", "hello"} {
		if !slices.ContainsFunc(AllNegativeAnswers(), func(a NegativeAnswer) bool { return a.Text == want }) {
			t.Errorf("%q is not a negative answer", want)
		}
	}
	all := AllNegativeAnswers()
	if all[0].Language != "en" || all[len(all)-1].Language != "" {
		t.Errorf("answers %+v … %+v, want English first and those of no language last", all[0], all[len(all)-1])
	}
	seen := map[string]bool{}
	for _, a := range all {
		if seen[a.Text] {
			t.Errorf("%q returned twice", a.Text)
		}
		seen[a.Text] = true
	}
}
