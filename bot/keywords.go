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
	phrases map[string]phraseEntry // by normalised phrase
	// polite holds the normalised polite phrases: true for those allowed
	// only around wide phrases (Keywords' polite words of languages the
	// flow does not speak).
	polite     map[string]bool
	firsts     map[string]struct{} // the first words of phrases and polite phrases; nil for a few phrases
	phraseLens []int               // distinct word counts of phrases, descending
	politeLens []int               // distinct word counts of polite phrases, descending
}

// phraseEntry is a phrase as it was given, with the rank of its kind (lower
// wins when a message could match phrases of several kinds), whether the
// wide-only polite words may surround it, and the language listing it.
type phraseEntry struct {
	phrase string
	rank   uint8
	wide   bool
	lang   string
}

// NewPhraseMatcher returns a matcher of the phrases. Phrases and polite
// words that normalise to the empty string (emoji, punctuation) are
// ignored; of phrases that normalise alike, the first one given is the one
// Match reports.
func NewPhraseMatcher(phrases, polite []string) *PhraseMatcher {
	m := newPhraseMatcher()
	m.addPolite(polite, false)
	for _, p := range phrases {
		m.add(phraseEntry{phrase: p})
	}
	m.finish()
	return m
}

func newPhraseMatcher() *PhraseMatcher {
	return newPhraseMatcherSize(0)
}

func newPhraseMatcherSize(n int) *PhraseMatcher {
	return &PhraseMatcher{phrases: make(map[string]phraseEntry, n), polite: make(map[string]bool)}
}

// addPolite adds polite phrases; wideOnly ones surround wide phrases only.
// A polite phrase given both ways is allowed around every phrase.
func (m *PhraseMatcher) addPolite(polite []string, wideOnly bool) {
	for _, p := range polite {
		n := spellings(p)[0]
		if n == "" {
			continue
		}
		if only, seen := m.polite[n]; !seen || only && !wideOnly {
			m.polite[n] = wideOnly
		}
	}
}

// add adds a phrase under its normalised form; see addKey.
func (m *PhraseMatcher) add(e phraseEntry) bool {
	return m.addKey(spellings(e.phrase)[0], e)
}

// addKey adds a phrase under key unless a phrase is already there with a
// better or the same rank; a wide one of the same rank makes it wide. It
// reports whether the phrase is new.
func (m *PhraseMatcher) addKey(key string, e phraseEntry) bool {
	n := key
	if n == "" {
		return false
	}
	old, dup := m.phrases[n]
	switch {
	case !dup:
		m.phrases[n] = e
	case old.rank == e.rank && e.wide && !old.wide:
		old.wide = true
		m.phrases[n] = old
	}
	return !dup
}

// minFirsts is how many phrases a matcher needs to filter messages by
// their first word.
const minFirsts = 32

// finish computes the word counts and first words Match tries. The
// wide-only polite words that are also polite for every phrase were made
// so by addPolite.
func (m *PhraseMatcher) finish() {
	m.phraseLens = wordCounts(m.phrases)
	m.politeLens = wordCounts(m.polite)
	if len(m.phrases) < minFirsts {
		return // a transition's few keywords: the filter would cost more than it saves
	}
	m.firsts = make(map[string]struct{}, len(m.phrases)+len(m.polite))
	for _, set := range []map[string]bool{keysOf(m.phrases), m.polite} {
		for s := range set {
			first, _, _ := strings.Cut(s, " ")
			m.firsts[first] = struct{}{}
		}
	}
}

func keysOf[V any](set map[string]V) map[string]bool {
	out := make(map[string]bool, len(set))
	for k := range set {
		out[k] = true
	}
	return out
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
	// Every match starts with a phrase or a polite word: most messages
	// that are no keyword end here, on one map look-up.
	if _, ok := m.firsts[t.span(s, 0, 1)]; !ok && m.firsts != nil {
		return phraseEntry{}, false
	}
	n := t.n
	// pre has bit i set when words [0, i) are polite phrases for every
	// phrase; wide when they are polite phrases for wide ones.
	pre, wide := m.prefixes(s, &t)
	for i := 0; i < n && wide>>i != 0; i++ {
		if wide&(1<<i) == 0 {
			continue
		}
		for _, l := range m.phraseLens {
			if i+l > n {
				continue
			}
			cand := t.span(s, i, i+l)
			e, ok := m.phrases[cand]
			if !ok || (found && e.rank >= best.rank) || !e.wide && pre&(1<<i) == 0 {
				continue
			}
			if m.restOK(s, &t, i+l, cand, l, e.wide) {
				best, found = e, true
				if e.rank == 0 {
					return best, true
				}
			}
		}
	}
	return best, found
}

// prefixes returns the bit sets of find: bit i is set in pre when words
// [0, i) are polite phrases for every phrase, in wide when they are polite
// phrases for wide ones (a superset).
func (m *PhraseMatcher) prefixes(s string, t *tokens) (pre, wide uint64) {
	pre, wide = 1, 1
	for i := 0; i < t.n && wide>>i != 0; i++ {
		if wide&(1<<i) == 0 {
			continue
		}
		for _, l := range m.politeLens {
			if i+l > t.n {
				continue
			}
			if only, ok := m.polite[t.span(s, i, i+l)]; ok {
				wide |= 1 << (i + l)
				if !only && pre&(1<<i) != 0 {
					pre |= 1 << (i + l)
				}
			}
		}
	}
	return pre, wide
}

// politeOnly reports whether the normalised message is made only of
// polite phrases of either kind (or is empty).
func (m *PhraseMatcher) politeOnly(s string) bool {
	if s == "" {
		return true
	}
	var t tokens
	if !t.split(s) {
		return false
	}
	_, wide := m.prefixes(s, &t)
	return wide&(1<<t.n) != 0
}

// restOK reports whether words [from, n) are polite phrases and copies of
// phrase, which has l words; wide says whether the wide-only polite phrases
// count.
func (m *PhraseMatcher) restOK(s string, t *tokens, from int, phrase string, l int, wide bool) bool {
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
				if only, polite := m.polite[t.span(s, p, p+pl)]; polite && (wide || !only) {
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
	// KeywordOptOut: STOP, its synonyms and the phrases that certainly
	// mean it ("stop sending me messages"): an opt-out at once.
	KeywordOptOut
	// KeywordOptIn: START and UNSTOP.
	KeywordOptIn
	// KeywordHelp: HELP and INFO.
	KeywordHelp
	// KeywordUncertainOptOut: a message that looks like an opt-out but may
	// be an answer ("stop it", "basta", "🛑", "s t o p", an opt-out word of
	// a language the flow does not speak): the engine asks the customer
	// whether to stop and changes nothing until they confirm.
	KeywordUncertainOptOut
)

// String returns "none", "opt_out", "opt_in", "help" or
// "uncertain_opt_out".
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
	case KeywordUncertainOptOut:
		return "uncertain_opt_out"
	default:
		return "KeywordKind(" + strconv.Itoa(int(k)) + ")"
	}
}

// Match is the global keyword a message is, if any.
type Match struct {
	Kind KeywordKind
	// Keyword is the keyword or phrase as listed (in the defaults or the
	// flow), e.g. "STOP" for the message "stop please", "🛑" for the stop
	// sign alone. Empty when Kind is KeywordNone.
	Keyword string
	// Language is the language that lists the keyword: the first active
	// one ("en" for STOP, "fr" for ARRÊT), else the first of the engine's
	// ("pt" for SAIR in an English flow). A hint of the customer's
	// language; "" for a symbol.
	Language string
}

// The ranks of the kinds in a PhraseMatcher: lower wins. A certain opt-out
// beats everything; an uncertain one beats START and HELP, so a flow's
// lists cannot turn "no more" into a help word.
const (
	rankOptOut = iota
	rankUncertain
	rankOptIn
	rankHelp
)

func kindOf(rank uint8) KeywordKind {
	switch rank {
	case rankOptOut:
		return KeywordOptOut
	case rankUncertain:
		return KeywordUncertainOptOut
	case rankOptIn:
		return KeywordOptIn
	}
	return KeywordHelp
}

// Keywords recognises the global keywords (opt-out, opt-in, help) that the
// engine answers before a flow sees a message, and the answers to its
// question whether to stop. It is immutable and safe for concurrent use.
type Keywords struct {
	matcher *PhraseMatcher
	// squeezed holds the opt-out phrases (certain and uncertain) with
	// letters repeated for emphasis squeezed out, for "stooop".
	squeezed *PhraseMatcher
	// yes and no recognise the answers to the question whether to stop.
	yes, no   *PhraseMatcher
	languages []string
	optOut    []string // normalised, sorted
	optIn     []string
	help      []string
	polite    []string
	phrases   []string // certain opt-out phrases of every language
	uncertain []string
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
// Whatever the lists say, the engine's opt-out phrases of every language
// it ships ("stop sending me messages", "darme de baja") are certain
// opt-outs, and its uncertain ones ("stop it", "basta") ask, as do the
// opt-out words of the languages that are not active, but for words an
// active language's list leaves out (a flow that drops CANCELAR from its
// Spanish list wants it as an answer). Around those, polite words of every
// language may stand.
//
// When a word is a keyword of several kinds, a certain opt-out wins over
// an uncertain one, which wins over opt-in, which wins over help.
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

	// The active lists.
	type listed struct {
		words []string
		lang  string
	}
	var optOut, optIn, help []listed
	var polite []string
	for _, l := range langs {
		def, o := defaults[l].keywordSet(), overrides[l]
		optOut = append(optOut, listed{pick(o.OptOut, def.OptOut), l})
		optIn = append(optIn, listed{pick(o.OptIn, def.OptIn), l})
		help = append(help, listed{pick(o.Help, def.Help), l})
		polite = append(polite, pick(o.Polite, def.Polite)...)
	}
	active := map[string]bool{} // normalised active opt-out words
	for _, ls := range optOut {
		for _, w := range ls.words {
			for _, n := range spellings(w) {
				active[n] = true
			}
		}
	}
	// Default words an active language's list leaves out: answers of the
	// flow, which no other language's defaults may take back.
	dropped := map[string]bool{}
	for _, l := range langs {
		for _, w := range defaults[l].OptOut {
			for _, n := range spellings(w) {
				if !active[n] {
					dropped[n] = true
				}
			}
		}
	}

	m := newPhraseMatcherSize(2048)
	m.addPolite(polite, false)
	var foreignPolite []string
	for _, l := range shippedLanguages {
		if !slices.Contains(langs, l) {
			foreignPolite = append(foreignPolite, defaults[l].Polite...)
		}
	}
	m.addPolite(foreignPolite, true)
	squeezed := newPhraseMatcher()
	k := &Keywords{matcher: m, squeezed: squeezed, languages: langs}
	// Added in rank order, so a phrase listed under several kinds keeps the
	// best-ranked one, and in language order, so it keeps the first
	// language listing it.
	add := func(words []string, rank uint8, wide bool, lang string, out *[]string) {
		for _, w := range words {
			for _, key := range spellings(w) {
				if rank == rankUncertain && dropped[key] {
					continue
				}
				e := phraseEntry{phrase: w, rank: rank, wide: wide, lang: lang}
				if m.addKey(key, e) && out != nil {
					*out = append(*out, key)
				}
				// Stretched, only words of four letters or more: "Finn"
				// is no FIN.
				if sq := squeeze(key); rank <= rankUncertain && utf8.RuneCountInString(sq) >= 4 {
					squeezed.addKey(sq, phraseEntry{phrase: w, rank: rankUncertain, wide: true, lang: lang})
				}
			}
		}
	}
	for _, ls := range optOut {
		add(ls.words, rankOptOut, false, ls.lang, &k.optOut)
	}
	for _, l := range shippedLanguages {
		add(defaults[l].Phrases, rankOptOut, true, l, &k.phrases)
	}
	for _, l := range shippedLanguages {
		if slices.Contains(langs, l) {
			add(defaults[l].Unsure, rankUncertain, true, l, &k.uncertain)
		} else {
			add(slices.DeleteFunc(slices.Clone(defaults[l].Unsure), shortWord), rankUncertain, true, l, &k.uncertain)
		}
	}
	for _, l := range shippedLanguages {
		if !slices.Contains(langs, l) {
			add(slices.DeleteFunc(slices.Clone(defaults[l].OptOut), shortWord), rankUncertain, true, l, &k.uncertain)
		}
	}
	for _, ls := range optIn {
		add(ls.words, rankOptIn, false, ls.lang, &k.optIn)
	}
	for _, ls := range help {
		add(ls.words, rankHelp, false, ls.lang, &k.help)
	}
	m.finish()
	squeezed.polite = m.polite
	squeezed.finish()
	k.polite = sortedKeys(m.polite)
	k.polite = slices.DeleteFunc(k.polite, func(p string) bool { return m.polite[p] })

	// The answers to the question whether to stop: a Yes, possibly with
	// polite words and opt-out words around it ("yes, stop"); a No.
	var yes, no, fillers []string
	for _, l := range shippedLanguages {
		d := defaults[l]
		yes = append(yes, d.Yes...)
		no = append(no, d.No...)
		fillers = append(fillers, d.Yes...)
		fillers = append(fillers, d.OptOut...)
		fillers = append(fillers, d.Polite...)
	}
	fillers = append(fillers, polite...)
	k.yes = NewPhraseMatcher(yes, fillers)
	k.no = NewPhraseMatcher(no, append(slices.Clip(polite), foreignPolite...))

	for _, list := range []*[]string{&k.optOut, &k.optIn, &k.help, &k.phrases, &k.uncertain} {
		sort.Strings(*list)
		*list = slices.Compact(*list)
	}
	return k
}

// shortWord reports whether w is one Latin word of three letters or fewer
// (RET, DUR, TD): in a language the flow does not speak, such a word is
// more likely a name or another language's word than an opt-out, so it
// counts only where its language is active.
func shortWord(w string) bool {
	n := spellings(w)[0]
	if len(n) > 3 {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] >= utf8.RuneSelf || n[i] == ' ' {
			return false
		}
	}
	return true
}

// spellings returns a phrase normalised and, when it has a dotless ı
// (Turkish), the same with i: "ÇIK" normalises to "cik", "çık" to "cık".
func spellings(phrase string) []string {
	if s, ok := defaultSpellings[phrase]; ok {
		return s
	}
	return spell(phrase)
}

func spell(phrase string) []string {
	n := Normalize(phrase)
	if strings.ContainsRune(n, 'ı') {
		return []string{n, strings.ReplaceAll(n, "ı", "i")}
	}
	return []string{n}
}

// defaultSpellings holds the spellings of every entry of the defaults,
// worked out once rather than for every flow.
var defaultSpellings = func() map[string][]string {
	out := map[string][]string{}
	for _, d := range defaults {
		for _, list := range [][]string{d.OptOut, d.Phrases, d.Unsure, d.OptIn, d.Help, d.Polite, d.Yes, d.No} {
			for _, w := range list {
				out[w] = spell(w)
			}
		}
	}
	return out
}()

// maxNearMiss is the longest normalised message, in bytes, in which the
// engine looks for a spelled-out or stretched opt-out word ("s t o p",
// "stooop"): they are short, and the bound keeps the look-up on the stack.
const maxNearMiss = 32

// squeeze shortens letters repeated for emphasis: a run of three or more
// of a letter becomes one, and so does a doubled letter at the end of a
// word ("stooopp" is "stop", "stopp" is "stop", "Parra" stays "parra").
func squeeze(s string) string {
	var buf [maxNearMiss]byte
	if out, ok := appendSqueezed(buf[:0], s); ok {
		return string(out)
	}
	return s
}

// appendSqueezed appends s squeezed to dst and reports whether squeezing
// changed anything.
func appendSqueezed(dst []byte, s string) ([]byte, bool) {
	changed := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		run := 1
		for j := i + size; j < len(s); j += size {
			if q, qs := utf8.DecodeRuneInString(s[j:]); q != r || qs != size {
				break
			}
			run++
		}
		end := i + run*size
		atWordEnd := end == len(s) || s[end] == ' '
		switch {
		case r == ' ', run == 1, run == 2 && !atWordEnd:
			dst = append(dst, s[i:end]...)
		default:
			dst = append(dst, s[i:i+size]...)
			changed = true
		}
		i = end
	}
	return dst, changed
}

// Match says which global keyword the message is. The message counts when,
// normalised, it is exactly a keyword or phrase, or one with only polite
// words (and repeats of it) before or after it: "Stop. Thank you", "please
// stop", "🛑 STOP 🛑", "ＳＴＯＰ" and "stop stop" are opt-outs; "don't
// stop", "stopping" and "Cancel my order" are not. See NewKeywords for the
// kinds and MatchNormalized for the near misses.
func (k *Keywords) Match(text string) Match {
	return k.MatchMessage(text, Normalize(text))
}

// MatchMessage is Match for a message whose normalised form the caller
// has already: normalized must be Normalize(text). On top of
// MatchNormalized, it takes a stop sign (🛑 ⛔ 🚫 🔕 📵) sent alone or
// with polite words only as an uncertain opt-out.
func (k *Keywords) MatchMessage(text, normalized string) Match {
	m := k.MatchNormalized(normalized)
	if m.Kind != KeywordNone || len(normalized) > maxNearMiss || !hasStopEmoji(text) {
		return m
	}
	if k.matcher.politeOnly(normalized) {
		return Match{Kind: KeywordUncertainOptOut, Keyword: stopEmojiOf(text)}
	}
	return m
}

// MatchNormalized is Match for a message already passed through Normalize,
// for callers that normalise once and match several sets; it cannot see
// emoji, which Normalize drops. A message that is no keyword is an
// uncertain opt-out when it spells out an opt-out word or phrase letter by
// letter ("s t o p") or stretches one ("stooop", "STOPPP please"). It does
// not allocate.
func (k *Keywords) MatchNormalized(normalized string) Match {
	if e, ok := k.matcher.find(normalized); ok {
		return Match{Kind: kindOf(e.rank), Keyword: e.phrase, Language: e.lang}
	}
	if len(normalized) > maxNearMiss {
		return Match{}
	}
	var buf [maxNearMiss]byte
	if joined, ok := appendSpelled(buf[:0], normalized); ok {
		if e, ok := k.matcher.find(string(joined)); ok && e.rank <= rankUncertain {
			return Match{Kind: KeywordUncertainOptOut, Keyword: e.phrase, Language: e.lang}
		}
		return Match{}
	}
	if squeezed, ok := appendSqueezed(buf[:0], normalized); ok {
		if e, ok := k.squeezed.find(string(squeezed)); ok {
			return Match{Kind: KeywordUncertainOptOut, Keyword: e.phrase, Language: e.lang}
		}
	}
	return Match{}
}

// appendSpelled appends the letters of s joined when s is two or more
// words of one letter each ("s t o p").
func appendSpelled(dst []byte, s string) ([]byte, bool) {
	words := 0
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		if i+size < len(s) && s[i+size] != ' ' {
			return dst, false
		}
		dst = append(dst, s[i:i+size]...)
		words++
		i += size + 1
	}
	return dst, words >= 2
}

// hasStopEmoji reports whether text holds a stop sign.
func hasStopEmoji(text string) bool {
	return stopEmojiOf(text) != ""
}

// stopEmojiOf returns the first stop sign in text, or "".
func stopEmojiOf(text string) string {
	for i := 0; i < len(text); i++ {
		if text[i] < utf8.RuneSelf {
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if slices.Contains(stopEmoji, r) {
			return text[i : i+size]
		}
		i += size - 1
	}
	return ""
}

// ConfirmsStop reports whether the normalised message answers YES to the
// question whether to stop: a yes of any language the engine ships,
// possibly with polite words and opt-out words ("Yes, stop please").
func (k *Keywords) ConfirmsStop(normalized string) bool {
	_, ok := k.yes.find(normalized)
	return ok
}

// DeclinesStop reports whether the normalised message answers NO to the
// question whether to stop ("no", "no thanks", "don't stop", "nein").
func (k *Keywords) DeclinesStop(normalized string) bool {
	_, ok := k.no.find(normalized)
	return ok
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

// Languages returns the active languages: "en", the flow's language, then
// the languages of the flow's keyword lists in sorted order.
func (k *Keywords) Languages() []string { return slices.Clone(k.languages) }

// Polite returns the polite words of every active language, normalised and
// sorted. Flows pass them to NewPhraseMatcher for their own keywords.
func (k *Keywords) Polite() []string { return slices.Clone(k.polite) }

// OptOutWords returns the opt-out keywords of every active language,
// normalised and sorted: the lists a flow's opt_out may replace.
func (k *Keywords) OptOutWords() []string { return slices.Clone(k.optOut) }

// OptOutPhrases returns the engine's certain opt-out phrases of every
// language it ships that are not opt-out words of the flow, normalised and
// sorted: they opt out in every flow.
func (k *Keywords) OptOutPhrases() []string { return slices.Clone(k.phrases) }

// UncertainOptOuts returns the messages that ask the customer whether to
// stop, normalised and sorted: the engine's uncertain phrases and the
// opt-out words of the languages that are not active.
func (k *Keywords) UncertainOptOuts() []string { return slices.Clone(k.uncertain) }

// OptInWords returns the opt-in keywords of every active language that are
// not also opt-out keywords, normalised and sorted.
func (k *Keywords) OptInWords() []string { return slices.Clone(k.optIn) }

// HelpWords returns the help keywords of every active language that are not
// also opt-out or opt-in keywords, normalised and sorted.
func (k *Keywords) HelpWords() []string { return slices.Clone(k.help) }
