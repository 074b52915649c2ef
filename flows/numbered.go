package flows

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// maxNumberedChoice is the highest choice number NumbersChoice recognises:
// a list message has at most 10 rows.
const maxNumberedChoice = maxRows

var (
	numberedOnce sync.Once
	numberedRe   [maxNumberedChoice + 1]*regexp.Regexp
)

// NumbersChoice reports whether a prompt's text shows a numbered choice n
// (1 to 10), so that a customer who answers with the bare number means
// that choice: "1) Yes", "1. Yes", "1: Yes", "(1) Yes", "[1] Yes",
// "1 - Yes", "1 = Yes" or the keycap "1️⃣ Yes", at the start of the text
// or after a space. "Reply 1 for yes" and numbers in passing ("order 1.5",
// "10:30", "24/7") are not numbered choices.
func NumbersChoice(text string, n int) bool {
	if n < 1 || n > maxNumberedChoice {
		return false
	}
	if n < 10 && !strings.Contains(text, strconv.Itoa(n)) || n == 10 && !strings.Contains(text, "10") && !strings.Contains(text, "\U0001F51F") {
		return false // most prompts hold no number at all
	}
	numberedOnce.Do(func() {
		for i := 1; i <= maxNumberedChoice; i++ {
			d := strconv.Itoa(i)
			keycap := ""
			if i < 10 {
				keycap = "|" + d + "\uFE0F?\u20E3"
			} else {
				keycap = "|\U0001F51F" // 🔟
			}
			numberedRe[i] = regexp.MustCompile(`(?:^|[\s(\[])(?:\(` + d + `\)|\[` + d + `\]|` + d + `\)|` + d +
				`[.:](?:\s|$)|` + d + `[ \t]*[-–—=][ \t]` + keycap + `)`)
		}
	})
	return numberedRe[n].MatchString(text)
}
