package bot

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/optinbot/optinbot/flows"
)

// Normalize reduces a message to the form keywords are compared in:
//
//   - compatibility forms are unified (NFKC: full-width "ＳＴＯＰ" is "STOP",
//     "①" is "1", the ligature "ﬁ" is "fi");
//   - case is folded ("STOP" and "Stop" are "stop", "ß" is "ss");
//   - diacritics are ignored ("ARRÊT" is "arret"): nonspacing and enclosing
//     marks are dropped after canonical decomposition;
//   - the apostrophes ' ’ ‘ ʼ and ` are deleted, so "don't" is "dont";
//   - format characters (zero-width space and joiner, BOM, soft hyphen…),
//     variation selectors and other default-ignorable characters are
//     deleted, so "S\u200bTOP" is "stop";
//   - every other character that is not a letter, a digit or a spacing mark
//     (punctuation, symbols and emoji, whitespace, control characters,
//     unassigned and private-use code points, invalid UTF-8) separates
//     words: "🛑STOP🛑" is "stop", "opt-out" is "opt out";
//   - words are joined by single ASCII spaces, with none at either end.
//
// The result is valid UTF-8 in NFC and Normalize(Normalize(s)) ==
// Normalize(s). Pure-ASCII input takes a fast path that does not allocate
// when s is already normal (lower-case words and digits joined by single
// spaces) and allocates once otherwise. Normalize is safe for concurrent use.
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
// size is the rune's encoded length; utf8.RuneError of size 1 is an invalid
// byte.
func classify(r rune, size int) uint8 {
	switch {
	case r == utf8.RuneError && size == 1:
		return classSep
	case r == '\u2018' || r == '\u2019' || r == '\u02BC': // ‘ ’ ʼ
		return classDrop
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point):
		return classDrop
	case unicode.In(r, unicode.L, unicode.N, unicode.Mc):
		return classKeep
	default:
		return classSep
	}
}

// foldCaser is stateless and safe for concurrent use (see cases.Fold).
var foldCaser = cases.Fold()

// normBuf holds the scratch buffers of one normalizeUnicode call.
type normBuf struct{ a, b []byte }

var normPool = sync.Pool{New: func() any {
	return &normBuf{a: make([]byte, 0, 256), b: make([]byte, 0, 256)}
}}

// maxPooledBuf bounds the scratch buffers kept for reuse, so one huge
// message does not pin memory.
const maxPooledBuf = 16 << 10

// normalizeUnicode is Normalize for any input. It is the reference the
// ASCII fast path must agree with.
func normalizeUnicode(s string) string {
	nb := normPool.Get().(*normBuf)
	// Symbols separate words even when they have a compatibility
	// decomposition: "STOP™" is "stop", not "stoptm".
	a := appendSymbolsAsSpaces(nb.a[:0], s)
	// NFKD, fold, NFKD again: folding may produce characters with a
	// compatibility decomposition. The marks the decompositions split off
	// are dropped by appendClassified; NFC then recomposes what is left
	// (Hangul syllables, two-part vowel signs).
	b := appendFold(nb.b[:0], a)
	a = norm.NFKD.Append(a[:0], b...)
	b = appendClassified(b[:0], a)
	var out string
	if norm.NFC.IsNormal(b) {
		out = string(b)
	} else {
		a = norm.NFC.Append(a[:0], b...)
		out = string(a)
	}
	if cap(a) <= maxPooledBuf && cap(b) <= maxPooledBuf {
		nb.a, nb.b = a[:0], b[:0]
		normPool.Put(nb)
	}
	return out
}

// appendSymbolsAsSpaces appends the NFKD form of s to dst, with each symbol
// that has a compatibility decomposition (™, ℃, ㎏) replaced by a space,
// except the enclosed letters and digits (Ⓢ, 🄰), which stay letters and
// digits. Other symbols need no replacing: they separate words anyway.
func appendSymbolsAsSpaces(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSymbol(r) && !isEnclosedAlphanumeric(r) &&
			norm.NFKD.PropertiesString(s[i:]).Decomposition() != nil {
			dst = norm.NFKD.AppendString(dst, s[start:i])
			dst = append(dst, ' ')
			start = i + size
		}
		i += size
	}
	return norm.NFKD.AppendString(dst, s[start:])
}

func isEnclosedAlphanumeric(r rune) bool {
	return 0x2460 <= r && r <= 0x24FF || 0x1F100 <= r && r <= 0x1F1FF
}

// appendFold appends the case folding of src to dst.
func appendFold(dst, src []byte) []byte {
	for {
		if cap(dst)-len(dst) < len(src)+utf8.UTFMax {
			dst = slices.Grow(dst, 2*len(src)+utf8.UTFMax)
		}
		nDst, nSrc, err := foldCaser.Transform(dst[len(dst):cap(dst)], src, true)
		dst = dst[:len(dst)+nDst]
		src = src[nSrc:]
		if err == nil {
			return dst
		}
		if err != transform.ErrShortDst || (nDst == 0 && nSrc == 0 && cap(dst)-len(dst) > 8*len(src)+64) {
			// Not expected from a fold: keep the rest as it is rather
			// than loop or lose text.
			return append(dst, src...)
		}
		dst = slices.Grow(dst, 2*len(src)+64)
	}
}

// appendClassified appends src to dst with marks, format characters and
// apostrophes deleted, runs of separators replaced by one space and no
// space at either end.
func appendClassified(dst, src []byte) []byte {
	start := len(dst)
	pending := false
	for i := 0; i < len(src); {
		c := src[i]
		var class uint8
		size := 1
		if c < utf8.RuneSelf {
			class = asciiClass[c]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
		} else {
			var r rune
			r, size = utf8.DecodeRune(src[i:])
			class = classify(r, size)
		}
		switch class {
		case classKeep:
			if pending && len(dst) > start {
				dst = append(dst, ' ')
			}
			pending = false
			switch {
			case size == 1:
				dst = append(dst, c)
			case src[i] == 0xE1 || src[i] == 0xEA:
				// Maybe Cherokee (U+13A0–U+13FD, U+AB70–U+ABBF).
				r, _ := utf8.DecodeRune(src[i:])
				dst = utf8.AppendRune(dst, foldCherokee(r))
			default:
				dst = append(dst, src[i:i+size]...)
			}
		case classSep:
			pending = true
		}
		i += size
	}
	return dst
}

// foldCherokee maps Cherokee letters to lower case. cases.Fold swaps the
// cases of Cherokee letters instead of folding them one way, which would
// make Normalize flip them on every call.
func foldCherokee(r rune) rune {
	switch {
	case 0x13A0 <= r && r <= 0x13EF:
		return r - 0x13A0 + 0xAB70
	case 0x13F0 <= r && r <= 0x13F5:
		return r - 0x13F0 + 0x13F8
	}
	return r
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
	for i := 0; i < n; i++ {
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
	for i := 0; i < n; i++ {
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
	start, end [maxMatchTokens]int32
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
		t.start[t.n], t.end[t.n] = int32(i), int32(j)
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
	optOut    []string // normalised, sorted
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
	for _, l := range langs {
		def, o := defaultKeywords[l], overrides[l]
		optOut = append(optOut, pick(o.OptOut, def.OptOut)...)
		optIn = append(optIn, pick(o.OptIn, def.OptIn)...)
		help = append(help, pick(o.Help, def.Help)...)
		polite = append(polite, pick(o.Polite, def.Polite)...)
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

	k := &Keywords{matcher: m, languages: langs, polite: sortedKeys(m.polite)}
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
	return Match{Kind: kindOf(e.rank), Keyword: e.phrase}
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
