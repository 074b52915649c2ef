package bot

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/optinbot/optinbot/flows"
)

// Normalize reduces a message to the form keywords are compared in:
//
//   - compatibility forms are unified (NFKC: full-width "ＳＴＯＰ" is "STOP",
//     "Ⓢ" is "S", "①" is "1", the ligature "ﬁ" is "fi");
//   - case is folded (full Unicode case folding: "STOP" and "Stop" are
//     "stop", "ß" is "ss"; Cherokee folds to lower case);
//   - diacritics are ignored ("ARRÊT" is "arret"): nonspacing and enclosing
//     marks are dropped after decomposition;
//   - the apostrophes ' ’ ‘ ʼ and ` are deleted, so "don't" is "dont";
//   - format characters (zero-width space and joiner, BOM, soft hyphen…),
//     variation selectors and other default-ignorable characters are
//     deleted, so "S\u200bTOP" is "stop";
//   - every other character that is not a letter, a digit or a spacing mark
//     separates words: punctuation, symbols and emoji (also those with a
//     compatibility decomposition: "STOP™" is "stop", not "stoptm"),
//     whitespace, control characters, unassigned and private-use code
//     points, invalid UTF-8. "🛑STOP🛑" is "stop", "opt-out" is "opt out";
//   - words are joined by single ASCII spaces, with none at either end.
//
// The result is valid UTF-8 in NFC, and Normalize(Normalize(s)) ==
// Normalize(s). Normalize never panics and is safe for concurrent use.
// ASCII input takes a fast path; input that is already normal (lower-case
// ASCII words and digits joined by single spaces) is returned without
// allocating, other short input costs one allocation.
func Normalize(s string) string {
	clean := true // s is already normal so far
	space := true // the previous byte was a space, or none was read yet
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return normalizeUnicode(s)
		}
		if clean {
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				space = false
			case c == ' ' && !space:
				space = true
			default:
				clean = false
			}
		}
	}
	if clean && !(space && len(s) > 0) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pending := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch asciiClass[c] {
		case classKeep:
			if pending && b.Len() > 0 {
				b.WriteByte(' ')
			}
			pending = false
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		case classSep:
			pending = true
		}
	}
	return b.String()
}

// A character's part in a normalised string.
const (
	classSep  = iota // separates words
	classKeep        // part of a word
	classDrop        // deleted without separating words
)

// asciiClass classifies ASCII bytes. Normalize's ASCII fast path and its
// Unicode path both use it, so the two agree on ASCII text.
var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			t[c] = classKeep
		case c == '\'' || c == '`':
			t[c] = classDrop
		default:
			t[c] = classSep
		}
	}
	return t
}()

// classify classifies a non-ASCII rune of decomposed, case-folded text.
func classify(r rune) uint8 {
	switch {
	case 0x300 <= r && r <= 0x36F: // the common combining diacritics
		return classDrop
	case isApostrophe(r):
		return classDrop
	case unicode.IsLetter(r):
		return classKeep
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point):
		return classDrop
	case unicode.In(r, unicode.N, unicode.Mc):
		return classKeep
	default:
		return classSep
	}
}

// isApostrophe reports whether r is a non-ASCII apostrophe: ‘ ’ ʼ.
func isApostrophe(r rune) bool {
	return r == '\u2018' || r == '\u2019' || r == '\u02BC'
}

// isEnclosedAlphanumeric reports whether r is in the Enclosed Alphanumerics
// blocks (Ⓢ, ①, 🄰): symbols that stand for letters and digits.
func isEnclosedAlphanumeric(r rune) bool {
	return 0x2460 <= r && r <= 0x24FF || 0x1F100 <= r && r <= 0x1F1FF
}

// normalizeUnicode is Normalize for any input.
func normalizeUnicode(s string) string {
	var buf [256]byte
	out := string(appendNormalized(buf[:0], s))
	// Only Hangul jamo and some spacing vowel signs recompose.
	return norm.NFC.String(out)
}

// appendNormalized appends the normalised s to dst, but for the final NFC.
// It works a rune at a time: NFKD (a rune's decomposition does not depend on
// its neighbours), then case folding, then classification. Canonical
// reordering is left out: nonspacing marks are dropped, and the final NFC
// orders the spacing marks that are kept.
func appendNormalized(dst []byte, s string) []byte {
	start := len(dst)
	pending := false // a separator was seen since the last kept rune
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst, pending = appendRune(dst, start, pending, rune(c))
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1: // invalid UTF-8
			pending = true
		case isApostrophe(r):
		case unicode.IsSymbol(r) && !isEnclosedAlphanumeric(r):
			// Before decomposition, so "™" is not "TM".
			pending = true
		default:
			if d := norm.NFKD.PropertiesString(s[i:]).Decomposition(); d != nil {
				for len(d) > 0 {
					dr, n := utf8.DecodeRune(d)
					dst, pending = appendRune(dst, start, pending, dr)
					d = d[n:]
				}
			} else {
				dst, pending = appendRune(dst, start, pending, r)
			}
		}
		i += size
	}
	return dst
}

// appendRune case-folds and classifies one rune of NFKD text and appends
// it to dst[start:], where words are joined by single spaces. pending says
// whether a separator was seen since the last rune kept; appendRune returns
// the new dst and pending.
func appendRune(dst []byte, start int, pending bool, r rune) ([]byte, bool) {
	var class uint8
	if r < utf8.RuneSelf {
		class = asciiClass[r]
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
	} else {
		r = foldRune(r)
		class = classify(r)
	}
	switch class {
	case classKeep:
		if pending && len(dst) > start {
			dst = append(dst, ' ')
		}
		switch {
		case r < utf8.RuneSelf:
			dst = append(dst, byte(r))
		case r == 'ß':
			dst = append(dst, "ss"...)
		default:
			dst = utf8.AppendRune(dst, r)
		}
		return dst, false
	case classSep:
		return dst, true
	}
	return dst, pending
}

// foldRune case-folds a rune of NFKD text. For such runes, Unicode's full
// case folding is lower(upper(r)), except that "ß" (and "ẞ") fold to "ss",
// which appendRune writes for the "ß" returned here; the dotless "ı" does
// not fold; and Cherokee, which Unicode folds to upper case, folds to lower
// case here (golang.org/x/text/cases swaps Cherokee case instead, which is
// not idempotent). The tests compare Normalize with a golang.org/x/text
// pipeline for every rune.
func foldRune(r rune) rune {
	if r == 'ı' {
		return r
	}
	return unicode.ToLower(unicode.ToUpper(r))
}

// maxMatchTokens is the most words a message may have and still match a
// phrase. A longer message is never a keyword message; the bound keeps the
// matcher's work and memory constant.
const maxMatchTokens = 63

// PhraseMatcher recognises a message that is one of a set of phrases,
// possibly with polite words around it: given the phrase "yes" and the
// polite word "please", it matches "yes", "Yes please!", "please, yes" and
// "yes yes", but not "yes but later" or "yesterday".
//
// Precisely: a normalised message matches the phrase p when it is a
// sequence of words made only of polite phrases and copies of p, with at
// least one p. Phrases and polite words may have several words ("thank
// you"); they are normalised with Normalize. Messages of more than 63 words
// never match.
//
// A PhraseMatcher is immutable and safe for concurrent use.
type PhraseMatcher struct {
	phrases    map[string]phraseEntry // by normalised phrase
	polite     map[string]struct{}    // normalised polite phrases
	phraseLens []int                  // distinct word counts of phrases, descending
	politeLens []int                  // distinct word counts of polite phrases, descending
}

// phraseEntry is a phrase as it was given, with the rank of its kind (lower
// wins when a message could match phrases of several kinds).
type phraseEntry struct {
	phrase string
	rank   uint8
}

// NewPhraseMatcher returns a matcher of the phrases. Phrases and polite
// words that normalise to the empty string (emoji, punctuation) are
// ignored; of phrases that normalise alike, the first one given is the one
// Match reports.
func NewPhraseMatcher(phrases, polite []string) *PhraseMatcher {
	m := newPhraseMatcher(polite)
	for _, p := range phrases {
		m.add(p, 0)
	}
	m.finish()
	return m
}

func newPhraseMatcher(polite []string) *PhraseMatcher {
	m := &PhraseMatcher{
		phrases: make(map[string]phraseEntry),
		polite:  make(map[string]struct{}, len(polite)),
	}
	for _, p := range polite {
		if n := Normalize(p); n != "" {
			m.polite[n] = struct{}{}
		}
	}
	return m
}

// add adds a phrase unless one that normalises alike is already there.
func (m *PhraseMatcher) add(phrase string, rank uint8) {
	n := Normalize(phrase)
	if n == "" {
		return
	}
	if _, dup := m.phrases[n]; !dup {
		m.phrases[n] = phraseEntry{phrase: phrase, rank: rank}
	}
}

// finish computes the word counts Match tries.
func (m *PhraseMatcher) finish() {
	m.phraseLens = wordCounts(m.phrases)
	m.politeLens = wordCounts(m.polite)
}

func wordCounts[V any](set map[string]V) []int {
	var lens []int
	for s := range set {
		n := strings.Count(s, " ") + 1
		if !slices.Contains(lens, n) {
			lens = append(lens, n)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(lens)))
	return lens
}

// Match reports which phrase the message matches. The message must be the
// output of Normalize. The phrase is returned as it was given to
// NewPhraseMatcher. When several phrases could match (a polite word is also
// a phrase, or phrases overlap like "no" and "no thanks"), the one that
// starts first and is longest wins. Match does not allocate.
func (m *PhraseMatcher) Match(normalized string) (phrase string, ok bool) {
	e, ok := m.find(normalized)
	return e.phrase, ok
}

// Phrases returns the normalised phrases, sorted.
func (m *PhraseMatcher) Phrases() []string {
	return sortedKeys(m.phrases)
}

// find returns the best-ranked phrase the message matches; among phrases of
// the same rank, the one that starts first and is longest.
func (m *PhraseMatcher) find(s string) (best phraseEntry, found bool) {
	if s == "" || len(m.phrases) == 0 {
		return phraseEntry{}, false
	}
	if e, ok := m.phrases[s]; ok && e.rank == 0 {
		return e, true // the whole message: nothing can beat it
	}
	var t tokens
	if !t.split(s) {
		return phraseEntry{}, false
	}
	n := t.n
	// pre has bit i set when words [0, i) are polite phrases.
	pre := uint64(1)
	for i := 0; i < n && pre>>i != 0; i++ {
		if pre&(1<<i) == 0 {
			continue
		}
		for _, l := range m.politeLens {
			if i+l <= n {
				if _, ok := m.polite[t.span(s, i, i+l)]; ok {
					pre |= 1 << (i + l)
				}
			}
		}
	}
	for i := 0; i < n && pre>>i != 0; i++ {
		if pre&(1<<i) == 0 {
			continue
		}
		for _, l := range m.phraseLens {
			if i+l > n {
				continue
			}
			cand := t.span(s, i, i+l)
			e, ok := m.phrases[cand]
			if !ok || (found && e.rank >= best.rank) {
				continue
			}
			if m.restOK(s, &t, i+l, cand, l) {
				best, found = e, true
				if e.rank == 0 {
					return best, true
				}
			}
		}
	}
	return best, found
}

// restOK reports whether words [from, n) are polite phrases and copies of
// phrase, which has l words.
func (m *PhraseMatcher) restOK(s string, t *tokens, from int, phrase string, l int) bool {
	n := t.n
	if from == n {
		return true
	}
	// ok has bit p set when words [p, n) are polite phrases and copies of
	// phrase.
	ok := uint64(1) << n
	for p := n - 1; p >= from; p-- {
		if p+l <= n && ok&(1<<(p+l)) != 0 && t.span(s, p, p+l) == phrase {
			ok |= 1 << p
			continue
		}
		for _, pl := range m.politeLens {
			if p+pl <= n && ok&(1<<(p+pl)) != 0 {
				if _, polite := m.polite[t.span(s, p, p+pl)]; polite {
					ok |= 1 << p
					break
				}
			}
		}
	}
	return ok&(1<<from) != 0
}

// tokens holds the byte offsets of the words of a normalised message.
type tokens struct {
	n          int
	start, end [maxMatchTokens]int
}

// split splits s at its spaces. It reports false when s has more than
// maxMatchTokens words.
func (t *tokens) split(s string) bool {
	t.n = 0
	for i := 0; i < len(s); {
		if t.n == maxMatchTokens {
			return false
		}
		j := strings.IndexByte(s[i:], ' ')
		if j < 0 {
			j = len(s)
		} else {
			j += i
		}
		t.start[t.n], t.end[t.n] = i, j
		t.n++
		i = j + 1
	}
	return true
}

// span returns words [i, j) of s with the spaces between them.
func (t *tokens) span(s string, i, j int) string {
	return s[t.start[i]:t.end[j-1]]
}

// KeywordKind says which global keyword a message is.
type KeywordKind uint8

const (
	// KeywordNone: not a global keyword; the flow handles the message.
	KeywordNone KeywordKind = iota
	// KeywordOptOut: STOP and its synonyms.
	KeywordOptOut
	// KeywordOptIn: START and UNSTOP.
	KeywordOptIn
	// KeywordHelp: HELP and INFO.
	KeywordHelp
)

// String returns "none", "opt_out", "opt_in" or "help".
func (k KeywordKind) String() string {
	switch k {
	case KeywordNone:
		return "none"
	case KeywordOptOut:
		return "opt_out"
	case KeywordOptIn:
		return "opt_in"
	case KeywordHelp:
		return "help"
	default:
		return "KeywordKind(" + strconv.Itoa(int(k)) + ")"
	}
}

// Match is the global keyword a message is, if any.
type Match struct {
	Kind KeywordKind
	// Keyword is the keyword as listed (in the defaults or the flow), e.g.
	// "STOP" for the message "stop please". Empty when Kind is KeywordNone.
	Keyword string
	// Language is the first active language that lists the keyword ("en"
	// for STOP, "fr" for ARRÊT): a hint of the customer's language.
	Language string
}

// defaultKeywords are the engine's keyword lists per language. A flow's
// list for a language replaces the default of that kind for it.
var defaultKeywords = map[string]flows.KeywordSet{
	"en": {
		OptOut: []string{"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"},
		OptIn:  []string{"START", "UNSTOP"},
		Help:   []string{"HELP", "INFO"},
		Polite: []string{"please", "thanks", "thank you", "now", "pls"},
	},
	"es": {
		OptOut: []string{"ALTO", "PARAR", "BAJA", "CANCELAR"},
		OptIn:  []string{"START", "UNSTOP"},
		Help:   []string{"AYUDA"},
		Polite: []string{"por favor", "gracias"},
	},
	"fr": {
		OptOut: []string{"ARRET", "ARRÊT", "STOP", "DESABONNER"},
		OptIn:  []string{"START", "UNSTOP"},
		Help:   []string{"AIDE"},
		Polite: []string{"merci", "s'il vous plait", "svp"},
	},
	"pt": {
		OptOut: []string{"PARAR", "SAIR", "CANCELAR"},
		OptIn:  []string{"START", "UNSTOP"},
		Help:   []string{"AJUDA"},
		Polite: []string{"por favor", "obrigado", "obrigada"},
	},
}

// Keywords recognises the global keywords (opt-out, opt-in, help) that the
// engine answers before a flow sees a message. It is immutable and safe for
// concurrent use.
type Keywords struct {
	matcher   *PhraseMatcher
	languages []string
	language  map[string]string // keyword as listed -> the first language listing it
	optOut    []string          // normalised, sorted
	optIn     []string
	help      []string
	polite    []string
}

// NewKeywords returns the keywords of a flow in language (a BCP 47 primary
// tag such as "es"; "" means "en") with the flow's per-language lists.
//
// The active languages are "en", the flow's language and every language of
// sets. The keywords of every active language apply together: a Spanish
// flow honours STOP as well as ALTO, and polite words of any active language
// may surround a keyword of any other. For each language and kind, a
// non-nil list in sets replaces the engine's default (an empty, non-nil
// list removes them all); a nil list keeps the default. Languages the
// engine has no defaults for have only the words in sets.
//
// When a word is a keyword of several kinds, opt-out wins over opt-in,
// which wins over help.
func NewKeywords(language string, sets map[string]flows.KeywordSet) *Keywords {
	langs := []string{"en"}
	if l := languageKey(language); l != "" && l != "en" {
		langs = append(langs, l)
	}
	// Keys that differ only in case or surrounding space add up.
	overrides := make(map[string]flows.KeywordSet, len(sets))
	for _, key := range sortedKeys(sets) {
		set, l := sets[key], languageKey(key)
		if l == "" {
			continue
		}
		o := overrides[l]
		o.OptOut = appendList(o.OptOut, set.OptOut)
		o.OptIn = appendList(o.OptIn, set.OptIn)
		o.Help = appendList(o.Help, set.Help)
		o.Polite = appendList(o.Polite, set.Polite)
		overrides[l] = o
	}
	for _, l := range sortedKeys(overrides) {
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}

	var optOut, optIn, help, polite []string
	firstLanguage := map[string]string{}
	for _, l := range langs {
		def, o := defaultKeywords[l], overrides[l]
		optOut = append(optOut, pick(o.OptOut, def.OptOut)...)
		optIn = append(optIn, pick(o.OptIn, def.OptIn)...)
		help = append(help, pick(o.Help, def.Help)...)
		polite = append(polite, pick(o.Polite, def.Polite)...)
		for _, list := range [][]string{pick(o.OptOut, def.OptOut), pick(o.OptIn, def.OptIn), pick(o.Help, def.Help)} {
			for _, p := range list {
				if _, seen := firstLanguage[p]; !seen {
					firstLanguage[p] = l
				}
			}
		}
	}

	m := newPhraseMatcher(polite)
	// Added in rank order, so a word listed under several kinds keeps the
	// best-ranked one.
	for _, p := range optOut {
		m.add(p, rankOf(KeywordOptOut))
	}
	for _, p := range optIn {
		m.add(p, rankOf(KeywordOptIn))
	}
	for _, p := range help {
		m.add(p, rankOf(KeywordHelp))
	}
	m.finish()

	k := &Keywords{matcher: m, languages: langs, language: firstLanguage, polite: sortedKeys(m.polite)}
	for n, e := range m.phrases {
		switch kindOf(e.rank) {
		case KeywordOptOut:
			k.optOut = append(k.optOut, n)
		case KeywordOptIn:
			k.optIn = append(k.optIn, n)
		case KeywordHelp:
			k.help = append(k.help, n)
		}
	}
	sort.Strings(k.optOut)
	sort.Strings(k.optIn)
	sort.Strings(k.help)
	return k
}

func rankOf(k KeywordKind) uint8 { return uint8(k - KeywordOptOut) }
func kindOf(rank uint8) KeywordKind {
	return KeywordOptOut + KeywordKind(rank)
}

// languageKey canonicalises a language key of a flow: trimmed, lower case.
func languageKey(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// appendList appends b to a, keeping a nil only when both are nil: a
// non-nil empty list is an override that removes every default.
func appendList(a, b []string) []string {
	if b == nil {
		return a
	}
	if a == nil {
		a = []string{}
	}
	return append(a, b...)
}

// pick returns the override if there is one, else the default.
func pick(override, def []string) []string {
	if override != nil {
		return override
	}
	return def
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Match says which global keyword the message is. The message counts when,
// normalised, it is exactly a keyword, or a keyword with only polite words
// (and repeats of the keyword) before or after it: "Stop. Thank you",
// "please stop", "🛑 STOP 🛑", "ＳＴＯＰ" and "stop stop" are opt-outs; "don't
// stop", "stop it", "stopping" and "Cancel my order" are not. Opt-out wins
// over opt-in, which wins over help.
func (k *Keywords) Match(text string) Match {
	return k.MatchNormalized(Normalize(text))
}

// MatchNormalized is Match for a message already passed through Normalize,
// for callers that normalise once and match several sets. It does not
// allocate.
func (k *Keywords) MatchNormalized(normalized string) Match {
	e, ok := k.matcher.find(normalized)
	if !ok {
		return Match{}
	}
	return Match{Kind: kindOf(e.rank), Keyword: e.phrase, Language: k.language[e.phrase]}
}

// Languages returns the active languages: "en", the flow's language, then
// the languages of the flow's keyword lists in sorted order.
func (k *Keywords) Languages() []string { return slices.Clone(k.languages) }

// Polite returns the polite words of every active language, normalised and
// sorted. Flows pass them to NewPhraseMatcher for their own keywords.
func (k *Keywords) Polite() []string { return slices.Clone(k.polite) }

// OptOutWords returns the opt-out keywords of every active language,
// normalised and sorted.
func (k *Keywords) OptOutWords() []string { return slices.Clone(k.optOut) }

// OptInWords returns the opt-in keywords of every active language that are
// not also opt-out keywords, normalised and sorted.
func (k *Keywords) OptInWords() []string { return slices.Clone(k.optIn) }

// HelpWords returns the help keywords of every active language that are not
// also opt-out or opt-in keywords, normalised and sorted.
func (k *Keywords) HelpWords() []string { return slices.Clone(k.help) }
