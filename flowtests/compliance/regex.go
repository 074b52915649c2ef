package compliance

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSamples bounds the candidates generated for one regular expression.
const maxSamples = 16

// maxRepeat bounds how many copies of a sub-expression x{n} asks for.
const maxRepeat = 1000

// RegexSamples returns texts a customer could write that re matches, best
// first: built by walking re's syntax tree (the first alternative, zero or
// one copies of a starred part, a readable character of each class), then
// from re's literal prefix. Every sample is verified with MatchString, is
// valid UTF-8 and holds no NUL (what the engine would clean away) and no
// text that is only white space. It returns nil when it finds none, which
// is not proof that none exists (e.g. `a\bb` has none, `[^\x00-\x{10FFFF}]`
// neither).
func RegexSamples(re *regexp.Regexp) []string {
	var cands []string
	if tree, err := syntax.Parse(re.String(), syntax.Perl); err == nil {
		cands = generate(tree.Simplify())
	}
	prefix, _ := re.LiteralPrefix()
	for _, suffix := range []string{"", "1", " 1", "a", " a", "yes"} {
		cands = append(cands, prefix+suffix)
	}
	var out []string
	for _, c := range cands {
		if strings.TrimSpace(c) == "" || !utf8.ValidString(c) || strings.IndexByte(c, 0) >= 0 || slices.Contains(out, c) {
			continue
		}
		if re.MatchString(c) {
			out = append(out, c)
		}
	}
	return out
}

// generate returns up to maxSamples strings that may match re; the
// caller verifies them.
func generate(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpNoMatch:
		return nil
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}
	case syntax.OpLiteral:
		return []string{string(re.Rune)}
	case syntax.OpCharClass:
		return classSamples(re.Rune)
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return []string{"a", "1"}
	case syntax.OpCapture:
		return generate(re.Sub[0])
	case syntax.OpStar:
		return repeats(generate(re.Sub[0]), 0, 2)
	case syntax.OpPlus:
		return repeats(generate(re.Sub[0]), 1, 2)
	case syntax.OpQuest:
		return repeats(generate(re.Sub[0]), 0, 1)
	case syntax.OpRepeat:
		lo, hi := re.Min, re.Max
		if hi < 0 || hi > lo+1 {
			hi = lo + 1
		}
		return repeats(generate(re.Sub[0]), min(lo, maxRepeat), min(hi, maxRepeat))
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			out = product(out, generate(sub))
			if len(out) == 0 {
				return nil
			}
		}
		return out
	case syntax.OpAlternate:
		var out []string
		// Round robin, so that every alternative gets a candidate.
		subs := make([][]string, len(re.Sub))
		for i, sub := range re.Sub {
			subs[i] = generate(sub)
		}
		for k := 0; len(out) < maxSamples; k++ {
			added := false
			for _, s := range subs {
				if k < len(s) && len(out) < maxSamples {
					out = append(out, s[k])
					added = true
				}
			}
			if !added {
				break
			}
		}
		return out
	}
	return nil
}

// repeats returns the candidates of a part repeated lo to hi times, fewest
// copies first.
func repeats(part []string, lo, hi int) []string {
	var out []string
	for n := lo; n <= hi && len(out) < maxSamples; n++ {
		if n == 0 {
			out = append(out, "")
			continue
		}
		for _, p := range part {
			if len(out) == maxSamples {
				break
			}
			out = append(out, strings.Repeat(p, n))
		}
	}
	return out
}

// product concatenates every a with every b, in order, up to maxSamples.
func product(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if len(out) == maxSamples {
				return out
			}
			out = append(out, x+y)
		}
	}
	return out
}

// preferred are the characters a sample is built of when a class allows
// them: what a customer would type.
const preferred = "ayes1nox0 ABCYZ.!,-?"

// classSamples returns one or two readable characters of a character class
// given as rune ranges.
func classSamples(ranges []rune) []string {
	in := func(r rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= r && r <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	var out []string
	for _, r := range preferred {
		if in(r) {
			out = append(out, string(r))
			if len(out) == 2 {
				return out
			}
		}
	}
	// Otherwise the first printable character of the class.
	for i := 0; i+1 < len(ranges) && len(out) < 2; i += 2 {
		for r, n := ranges[i], 0; r <= ranges[i+1] && n < 256; r, n = r+1, n+1 {
			if r != 0 && r != utf8.RuneError && unicode.IsPrint(r) {
				out = append(out, string(r))
				break
			}
		}
	}
	return out
}
