package flows

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSuggestDistance is how many edits a misspelling may be from the name it
// is suggested for.
const maxSuggestDistance = 2

// didYouMean returns "; did you mean 'x'?" for the candidate closest to
// name, or "" when none is close.
func didYouMean(name string, candidates []string) string {
	if best := closest(name, candidates); best != "" {
		return "; did you mean " + quote(best) + "?"
	}
	return ""
}

// closest returns the candidate closest to name, or "" when none is close.
// A candidate is close when it is at most maxSuggestDistance edits away and
// the edits change at most half of the longer name, so that short names
// ("id", "on") do not suggest unrelated ones. Case is ignored, so "Prompt"
// suggests "prompt". Ties go to the earliest candidate, which keeps messages
// deterministic.
func closest(name string, candidates []string) string {
	best, bestDist := "", maxSuggestDistance+1
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		longer := max(utf8.RuneCountInString(name), utf8.RuneCountInString(c))
		if d < bestDist && 2*d <= longer {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of adjacent runes each cost
// one. Swaps count because "promtp" is one slip of the fingers, not two.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows suffice: the swap rule looks back two rows.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// maxQuoted is how many runes of a value a message quotes.
const maxQuoted = 40

// quote returns s in single quotes for a message, shortened to maxQuoted
// runes. Values that would break the one-line message or be ambiguous in
// single quotes (quotes, newlines, control or invisible characters, invalid
// UTF-8) are written as a Go string literal instead.
func quote(s string) string {
	if utf8.RuneCountInString(s) > maxQuoted {
		s = string([]rune(s)[:maxQuoted]) + "…"
	}
	for _, r := range s {
		if r == '\'' || r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return "'" + s + "'"
}

// list joins names as "'a', 'b', 'c'" for a message.
func list(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = quote(n)
	}
	return strings.Join(quoted, ", ")
}

// Closest is the did-you-mean rule of flow errors, for other YAML formats
// of the project (flowtests) to suggest names the same way: the candidate
// at most two edits from name (and changing at most half of it), ignoring
// case, or "".
func Closest(name string, candidates []string) string { return closest(name, candidates) }

// Quote quotes a value for a one-line error message as flow errors do.
func Quote(s string) string { return quote(s) }
