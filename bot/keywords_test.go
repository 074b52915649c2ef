package bot

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/optinbot/optinbot/flows"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

var updateKeywords = flag.Bool("update-keywords", false, "rewrite testdata/keywords/*.golden")

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"stop", "stop"},
		{"STOP", "stop"},
		{"Stop", "stop"},
		{"sToP", "stop"},
		{"  stop  ", "stop"},
		{"stop\t\n", "stop"},
		{"stop\r\nplease", "stop please"},
		{"stop \t \n  all", "stop all"},
		{"Stop. Thank you", "stop thank you"},
		{"STOP!!!", "stop"},
		{"opt-out", "opt out"},
		{"opt_out", "opt out"},
		{"stop/start", "stop start"},
		{"don't stop", "dont stop"},
		{"don’t stop", "dont stop"}, // U+2019
		{"donʼt stop", "dont stop"}, // U+02BC
		{"don‘t stop", "dont stop"}, // U+2018
		{"don`t stop", "dont stop"}, // backtick
		{"don＇t stop", "dont stop"}, // full-width apostrophe
		{"'stop'", "stop"},
		{"\"stop\"", "stop"},
		{"s'il vous plaît", "sil vous plait"},
		{"ＳＴＯＰ", "stop"},
		{"ｓｔｏｐ　ｐｌｅａｓｅ", "stop please"}, // ideographic space
		{"ARRÊT", "arret"},
		{"Arrêt", "arret"},
		{"arre\u0302t", "arret"}, // decomposed
		{"DÉSABONNER", "desabonner"},
		{"Straße", "strasse"},
		{"ﬁn", "fin"},
		{"①②", "12"},
		{"x²", "x2"},
		{"Ⅻ", "xii"},
		{"🛑 STOP 🛑", "stop"},
		{"🛑STOP🛑", "stop"},
		{"STOP™", "stop"},
		{"ⓈⓉⓄⓅ", "stop"}, // enclosed letters stay letters
		{"🅂🅃🄾🄿", "stop"},
		{"5℃ 3㎏", "5 3"},
		{"stop👍please", "stop please"},
		{"👍🏽", ""},
		{"❤️", ""},
		{"STOP\uFE0F", "stop"},        // variation selector
		{"S\u200bTOP", "stop"},        // zero-width space
		{"S\u200dTOP", "stop"},        // zero-width joiner
		{"\uFEFFSTOP", "stop"},        // BOM
		{"STO\u00adP", "stop"},        // soft hyphen
		{"S\u2060TOP", "stop"},        // word joiner
		{"stop\u00a0now", "stop now"}, // no-break space
		{"stop\u2028now", "stop now"}, // line separator
		{"stop\u0085now", "stop now"}, // next line (C1 control)
		{"stop\x00now", "stop now"},
		{"1️⃣", "1"},            // keycap
		{"👨\u200d👩\u200d👧", ""}, // ZWJ sequence
		{"🇫🇷 arrêt", "arret"},
		{"stop\xffnow", "stop now"}, // invalid UTF-8
		{"\xc3", ""},
		{"\xe2\x80", ""},
		{"stop\uFFFDnow", "stop now"},
		{"안녕하세요", "안녕하세요"},
		{"ПРИВЕТ", "привет"},
		{"ΣΤΑΜΑΤΑ", "σταματα"},
		{"İSTANBUL", "istanbul"},
		{"ñ", "n"},
		{"mañana", "manana"},
		{"where is the bus stop?", "where is the bus stop"},
		{"stop-stop", "stop stop"},
		{"a - b", "a b"},
		{"42", "42"},
		{"3.14", "3 14"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// normalizeGoldenInputs are the inputs of testdata/keywords/normalize.golden.
var normalizeGoldenInputs = []string{
	"",
	" ",
	"STOP",
	"Stop please",
	"  stop  ",
	"\tSTOP\n",
	"Stop. Thank you",
	"ＳＴＯＰ",
	"🛑 STOP 🛑",
	"STOP\uFE0F",
	"S\u200bTOP",
	"S\u200dTOP",
	"\uFEFFstop",
	"ARRÊT",
	"arre\u0302t",
	"Arrêt, merci",
	"S'il vous plaît",
	"don't stop",
	"don’t stop",
	"where is the bus stop?",
	"Cancel my order #1234",
	"opt-out",
	"OPT OUT",
	"StopAll",
	"UNSUBSCRIBE!!!",
	"Por favor, BAJA",
	"Obrigado! SAIR",
	"Straße",
	"ﬁn",
	"①",
	"Ⅻ",
	"x²",
	"👍🏽",
	"1️⃣",
	"👨\u200d👩\u200d👧",
	"🇧🇷",
	"STOP™",
	"stop\u00a0now",
	"stop\xffnow",
	"안녕하세요",
	"ПРИВЕТ",
	"İstanbul",
	"مرحبًا",
	"नमस्ते",
	"日本語のテキスト",
	"ﾃｽﾄ",
}

func TestNormalizeGolden(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Normalize: input -> output, both Go-quoted, with marks, format and\n")
	b.WriteString("# space characters escaped. Regenerate with\n")
	b.WriteString("# go test ./bot/ -run TestNormalizeGolden -update-keywords\n")
	for _, in := range normalizeGoldenInputs {
		b.WriteString(goldenQuote(in) + " -> " + goldenQuote(Normalize(in)) + "\n")
	}
	got := b.String()
	path := filepath.Join("testdata", "keywords", "normalize.golden")
	if *updateKeywords {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-keywords to create it)", err)
	}
	if got != string(want) {
		gotLines, wantLines := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gotLines), len(wantLines)); i++ {
			var g, w string
			if i < len(gotLines) {
				g = gotLines[i]
			}
			if i < len(wantLines) {
				w = wantLines[i]
			}
			if g != w {
				t.Errorf("%s:%d:\n got %s\nwant %s", path, i+1, g, w)
			}
		}
		t.Errorf("%s is out of date (run with -update-keywords if the change is intended)", path)
	}
}

// goldenQuote is strconv.Quote, but escapes the characters one cannot
// see: marks, format characters, variation selectors, non-ASCII spaces.
func goldenQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < utf8.RuneSelf:
			q := strconv.QuoteRune(r)
			b.WriteString(strings.ReplaceAll(q[1:len(q)-1], `\'`, "'"))
		case unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) && !unicode.Is(unicode.Variation_Selector, r):
			b.WriteRune(r)
		case r > 0xFFFF:
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// checkNormalized fails unless out is a valid Normalize result for in.
func checkNormalized(t testing.TB, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("Normalize(%q) = %q: invalid UTF-8", in, out)
	}
	if strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") || strings.Contains(out, "  ") {
		t.Fatalf("Normalize(%q) = %q: stray spaces", in, out)
	}
	if again := Normalize(out); again != out {
		t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q: not idempotent", in, out, out, again)
	}
}

// The ASCII fast path must agree with the general path.
func TestNormalizeASCIIFastPath(t *testing.T) {
	inputs := []string{"", " ", "a", "A", "stop", "STOP", " stop", "stop ", "stop  now",
		"Stop. Thank you", "don't", "`x`", "a_b-c", "\t\r\n\v\f", "\x00\x7f", "~!@#$%^&*()+={}[]|\\:;\"<>,.?/"}
	for c := 0; c < utf8.RuneSelf; c++ {
		inputs = append(inputs, string(rune(c)), "a"+string(rune(c))+"b", "A"+string(rune(c)))
	}
	for _, in := range inputs {
		fast, slow := Normalize(in), normalizeUnicode(in)
		if fast != slow {
			t.Errorf("Normalize(%q) = %q, but the Unicode path gives %q", in, fast, slow)
		}
		checkNormalized(t, in, fast)
	}
}

// normalizeReference is Normalize done the slow, obvious way: whole-string
// NFKD, golang.org/x/text/cases folding and NFKD again, then
// classification and NFC. Normalize works a rune at a time and must agree.
func normalizeReference(s string) string {
	var pre strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError, r >= utf8.RuneSelf && unicode.IsSymbol(r) && !isEnclosedAlphanumeric(r):
			pre.WriteByte(' ')
		default:
			pre.WriteRune(r)
		}
	}
	folded := norm.NFKD.String(cases.Fold().String(norm.NFKD.String(pre.String())))
	var out []byte
	pending := false
	for _, r := range folded {
		class := classSep
		switch {
		case r < utf8.RuneSelf:
			class = int(asciiClass[r])
			r = unicode.ToLower(r)
		case 0x13A0 <= r && r <= 0x13EF: // Cherokee to lower case
			r, class = r-0x13A0+0xAB70, classKeep
		case 0x13F0 <= r && r <= 0x13F5:
			r, class = r-0x13F0+0x13F8, classKeep
		default:
			class = int(classify(r))
		}
		switch class {
		case classKeep:
			if pending && len(out) > 0 {
				out = append(out, ' ')
			}
			pending = false
			out = utf8.AppendRune(out, r)
		case classSep:
			pending = true
		}
	}
	return norm.NFC.String(string(out))
}

// Every code point, alone and between letters, normalises idempotently
// and as the reference does.
func TestNormalizeEveryRune(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	step := rune(1)
	if raceEnabled() {
		step = 61 // a sample: the race detector makes this 10 times slower
	}
	fails := 0
	for r := rune(0); r <= utf8.MaxRune && fails < 20; r += step {
		switch {
		case 0xD800 <= r && r < 0xE000:
			continue // surrogates are not runes
		case 0x40000 <= r && r < 0xE0000 || 0xF0000 <= r:
			// Planes 4 to 13 are unassigned, 15 and 16 are private use:
			// a sample is enough.
			if r%251 != 0 {
				continue
			}
		}
		for _, s := range []string{string(r), "A" + string(r) + "B", "\u1100\u1161" + string(r)} {
			got := Normalize(s)
			checkNormalized(t, s, got)
			if want := normalizeReference(s); got != want {
				t.Errorf("Normalize(%q) = %q, reference %q", s, got, want)
				fails++
			}
		}
	}
}

func TestNormalizeAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled() {
		t.Skip("allocation counts are not meaningful with coverage or -race")
	}
	for _, tt := range []struct {
		in   string
		want float64
	}{
		{"stop please", 0},
		{"", 0},
		{"STOP please", 1},
		{"Stop. Thank you!", 1},
		{"🛑 STOP 🛑", 1},
		{"ARRÊT", 1},
	} {
		if got := testing.AllocsPerRun(100, func() { Normalize(tt.in) }); got > tt.want {
			t.Errorf("Normalize(%q): %v allocations, want at most %v", tt.in, got, tt.want)
		}
	}
}

// raceEnabled reports whether the race detector is on; it makes sync.Pool
// drop items at random.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func TestKeywordsMatch(t *testing.T) {
	k := NewKeywords("en", nil)
	tests := []struct {
		in      string
		kind    KeywordKind
		keyword string
	}{
		{"STOP", KeywordOptOut, "STOP"},
		{"stop", KeywordOptOut, "STOP"},
		{"Stop", KeywordOptOut, "STOP"},
		{"sToP", KeywordOptOut, "STOP"},
		{" STOP ", KeywordOptOut, "STOP"},
		{"\tstop\n", KeywordOptOut, "STOP"},
		{"stop\r\n", KeywordOptOut, "STOP"},
		{"STOP!", KeywordOptOut, "STOP"},
		{"Stop.", KeywordOptOut, "STOP"},
		{"ＳＴＯＰ", KeywordOptOut, "STOP"},
		{"🛑 STOP 🛑", KeywordOptOut, "STOP"},
		{"🛑STOP🛑", KeywordOptOut, "STOP"},
		{"STOP\uFE0F", KeywordOptOut, "STOP"},
		{"✋\uFE0F stop", KeywordOptOut, "STOP"},
		{"S\u200bTOP", KeywordOptOut, "STOP"},
		{"S\u200dTOP", KeywordOptOut, "STOP"},
		{"\uFEFFSTOP", KeywordOptOut, "STOP"},
		{"STOP™", KeywordOptOut, "STOP"},
		{"'stop'", KeywordOptOut, "STOP"},

		// Polite words before, after, both, several.
		{"please stop", KeywordOptOut, "STOP"},
		{"STOP please", KeywordOptOut, "STOP"},
		{"stop now", KeywordOptOut, "STOP"},
		{"Stop. Thank you", KeywordOptOut, "STOP"},
		{"Stop, thanks!", KeywordOptOut, "STOP"},
		{"please stop now", KeywordOptOut, "STOP"},
		{"Please, STOP now. Thank you!", KeywordOptOut, "STOP"},
		{"pls pls stop", KeywordOptOut, "STOP"},
		{"thank you thanks stop now please", KeywordOptOut, "STOP"},
		{"🙏 please stop 🙏", KeywordOptOut, "STOP"},
		{"stop stop", KeywordOptOut, "STOP"},
		{"STOP STOP STOP!!!", KeywordOptOut, "STOP"},
		{"stop please stop", KeywordOptOut, "STOP"},

		// Every default opt-out word, multi-word ones and their listed
		// one-word forms.
		{"stopall", KeywordOptOut, "STOPALL"},
		{"STOP ALL", KeywordOptOut, "STOP ALL"},
		{"stop all please", KeywordOptOut, "STOP ALL"},
		{"Unsubscribe", KeywordOptOut, "UNSUBSCRIBE"},
		{"cancel", KeywordOptOut, "CANCEL"},
		{"END", KeywordOptOut, "END"},
		{"quit", KeywordOptOut, "QUIT"},
		{"revoke", KeywordOptOut, "REVOKE"},
		{"optout", KeywordOptOut, "OPTOUT"},
		{"opt out", KeywordOptOut, "OPT OUT"},
		{"Opt-Out", KeywordOptOut, "OPT OUT"},
		{"opt out please", KeywordOptOut, "OPT OUT"},

		{"START", KeywordOptIn, "START"},
		{"start please", KeywordOptIn, "START"},
		{"unstop", KeywordOptIn, "UNSTOP"},
		{"HELP", KeywordHelp, "HELP"},
		{"help!", KeywordHelp, "HELP"},
		{"info please", KeywordHelp, "INFO"},
		{"Help, thanks", KeywordHelp, "HELP"},

		// Not keywords: the flow gets them.
		{"", KeywordNone, ""},
		{"   ", KeywordNone, ""},
		{"please", KeywordNone, ""},
		{"thank you", KeywordNone, ""},
		{"don't stop", KeywordNone, ""},
		{"don’t stop", KeywordNone, ""},
		{"where is the bus stop?", KeywordNone, ""},
		{"Cancel my order", KeywordNone, ""},

		{"stopping", KeywordNone, ""},
		{"stops", KeywordNone, ""},
		{"s top", KeywordNone, ""},
		{"st op", KeywordNone, ""},
		{"optout now thanks bye", KeywordNone, ""},
		{"stop start", KeywordNone, ""},
		{"stop help", KeywordNone, ""},
		{"help me", KeywordNone, ""},
		{"information", KeywordNone, ""},
		{"the end", KeywordNone, ""},
		{"stop all of it", KeywordNone, ""},
		{"opt", KeywordNone, ""},
		{"out", KeywordNone, ""},
		{"unsubscribe me from marketing", KeywordNone, ""},

		// Near misses: the engine asks whether to stop (issue 10).
		{"🛑", KeywordUncertainOptOut, "🛑"},
		{"stop it", KeywordUncertainOptOut, "stop it"},
		{"stop it please", KeywordUncertainOptOut, "stop it"},
		{"arret", KeywordUncertainOptOut, "ARRET"},                      // French is not active in an English flow
		{"ALTO", KeywordUncertainOptOut, "ALTO"},                        // nor Spanish
		{strings.Repeat("please ", 62) + "stop", KeywordOptOut, "STOP"}, // 63 words
		{strings.Repeat("please ", 63) + "stop", KeywordNone, ""},       // too long
		{strings.Repeat("stop ", 63), KeywordOptOut, "STOP"},
		{strings.Repeat("stop ", 64), KeywordNone, ""},
	}
	for _, tt := range tests {
		got := k.Match(tt.in)
		got.Language = "" // checked by TestKeywordLanguage
		want := Match{Kind: tt.kind, Keyword: tt.keyword}
		if got != want {
			t.Errorf("Match(%q) = %+v, want %+v", tt.in, got, want)
		}
	}
}

func TestKeywordsLanguages(t *testing.T) {
	type check struct {
		in      string
		kind    KeywordKind
		keyword string
	}
	tests := []struct {
		name   string
		lang   string
		sets   map[string]flows.KeywordSet
		langs  []string
		checks []check
	}{
		{
			name:  "default language is English",
			lang:  "",
			langs: []string{"en"},
			checks: []check{
				{"stop", KeywordOptOut, "STOP"},
				{"alto", KeywordUncertainOptOut, "ALTO"}, // Spanish is not active: ask
			},
		},
		{
			name:  "a Spanish flow honours English and Spanish",
			lang:  "es",
			langs: []string{"en", "es"},
			checks: []check{
				{"STOP", KeywordOptOut, "STOP"},
				{"stop please", KeywordOptOut, "STOP"},
				{"ALTO", KeywordOptOut, "ALTO"},
				{"baja, por favor", KeywordOptOut, "BAJA"},
				{"Por favor BAJA. Gracias", KeywordOptOut, "BAJA"},
				{"parar", KeywordOptOut, "PARAR"},
				{"CANCELAR", KeywordOptOut, "CANCELAR"},
				{"cancel", KeywordOptOut, "CANCEL"},
				{"AYUDA", KeywordHelp, "AYUDA"},
				{"help", KeywordHelp, "HELP"},
				{"start", KeywordOptIn, "START"},
				{"gracias stop", KeywordOptOut, "STOP"}, // polite of one language, keyword of another
				{"alto ahí", KeywordNone, ""},
				{"sair", KeywordUncertainOptOut, "SAIR"}, // Portuguese is not active: ask
			},
		},
		{
			name:  "French: diacritics are ignored",
			lang:  "fr",
			langs: []string{"en", "fr"},
			checks: []check{
				{"ARRET", KeywordOptOut, "ARRET"},
				{"ARRÊT", KeywordOptOut, "ARRET"},
				{"arrêt", KeywordOptOut, "ARRET"},
				{"Arret", KeywordOptOut, "ARRET"},
				{"arre\u0302t", KeywordOptOut, "ARRET"},
				{"Arrêt, merci", KeywordOptOut, "ARRET"},
				{"arrêt s'il vous plaît", KeywordOptOut, "ARRET"},
				{"Arrêt s’il vous plait !", KeywordOptOut, "ARRET"},
				{"svp arrêt", KeywordOptOut, "ARRET"},
				{"désabonner", KeywordOptOut, "DESABONNER"},
				{"STOP", KeywordOptOut, "STOP"},
				{"aide", KeywordHelp, "AIDE"},
				{"arrêt de bus", KeywordNone, ""},
			},
		},
		{
			name:  "Portuguese",
			lang:  "pt",
			langs: []string{"en", "pt"},
			checks: []check{
				{"SAIR", KeywordOptOut, "SAIR"},
				{"sair, obrigada", KeywordOptOut, "SAIR"},
				{"parar por favor", KeywordOptOut, "PARAR"},
				{"ajuda", KeywordHelp, "AJUDA"},
				{"stop obrigado", KeywordOptOut, "STOP"},
			},
		},
		{
			name: "an override drops a default word",
			lang: "en",
			sets: map[string]flows.KeywordSet{
				"en": {OptOut: []string{"STOP", "UNSUBSCRIBE"}},
			},
			langs: []string{"en"},
			checks: []check{
				{"stop", KeywordOptOut, "STOP"},
				{"unsubscribe", KeywordOptOut, "UNSUBSCRIBE"},
				{"end", KeywordNone, ""},
				{"cancel", KeywordNone, ""},
				{"start", KeywordOptIn, "START"}, // nil lists keep defaults
				{"help please", KeywordHelp, "HELP"},
			},
		},
		{
			name: "an empty list drops every default of its kind",
			lang: "en",
			sets: map[string]flows.KeywordSet{
				"en": {Help: []string{}, Polite: []string{}},
			},
			langs: []string{"en"},
			checks: []check{
				{"help", KeywordNone, ""},
				{"info", KeywordNone, ""},
				{"stop", KeywordOptOut, "STOP"},
				{"stop please", KeywordNone, ""},
			},
		},
		{
			name: "a language override applies to that language only",
			lang: "es",
			sets: map[string]flows.KeywordSet{
				"es": {OptOut: []string{"ALTO"}, Polite: []string{"porfa"}},
			},
			langs: []string{"en", "es"},
			checks: []check{
				{"alto porfa", KeywordOptOut, "ALTO"},
				{"baja", KeywordNone, ""},
				{"alto por favor", KeywordNone, ""},
				{"stop please", KeywordOptOut, "STOP"},
			},
		},
		{
			name: "a language in sets becomes active",
			lang: "en",
			sets: map[string]flows.KeywordSet{
				"PT": {},
				"de": {OptOut: []string{"ABMELDEN"}, Help: []string{"HILFE"}, Polite: []string{"bitte", "danke"}},
			},
			langs: []string{"en", "de", "pt"},
			checks: []check{
				{"Abmelden, bitte", KeywordOptOut, "ABMELDEN"},
				{"hilfe", KeywordHelp, "HILFE"},
				{"SAIR", KeywordOptOut, "SAIR"},
				{"stop danke", KeywordOptOut, "STOP"},
			},
		},
		{
			name: "opt-out wins over opt-in wins over help",
			lang: "en",
			sets: map[string]flows.KeywordSet{
				"en": {
					OptIn: []string{"START", "STOP", "GO"},
					Help:  []string{"HELP", "START", "GO", "STOP"},
				},
			},
			langs: []string{"en"},
			checks: []check{
				{"stop", KeywordOptOut, "STOP"},
				{"start", KeywordOptIn, "START"},
				{"go", KeywordOptIn, "GO"},
				{"help", KeywordHelp, "HELP"},
			},
		},
		{
			name: "a polite word that is also a keyword",
			lang: "en",
			sets: map[string]flows.KeywordSet{
				"en": {Help: []string{"NOW"}},
			},
			langs: []string{"en"},
			checks: []check{
				{"now", KeywordHelp, "NOW"},
				{"now now", KeywordHelp, "NOW"},
				{"stop now", KeywordOptOut, "STOP"},
				{"now stop", KeywordOptOut, "STOP"},
				{"now please", KeywordHelp, "NOW"},
			},
		},
		{
			name: "keywords that normalise to nothing are ignored",
			lang: "en",
			sets: map[string]flows.KeywordSet{
				"en": {OptOut: []string{"🛑", "STOP", "  "}},
			},
			langs: []string{"en"},
			checks: []check{
				{"🛑", KeywordUncertainOptOut, "🛑"}, // the stop sign asks, whatever the lists say
				{"", KeywordNone, ""},
				{"stop", KeywordOptOut, "STOP"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := NewKeywords(tt.lang, tt.sets)
			if got := k.Languages(); !slices.Equal(got, tt.langs) {
				t.Errorf("Languages() = %q, want %q", got, tt.langs)
			}
			for _, c := range tt.checks {
				got := k.Match(c.in)
				got.Language = "" // checked by TestKeywordLanguage
				want := Match{Kind: c.kind, Keyword: c.keyword}
				if got != want {
					t.Errorf("Match(%q) = %+v, want %+v", c.in, got, want)
				}
			}
		})
	}
}

func TestKeywordsAccessors(t *testing.T) {
	k := NewKeywords("fr", nil)
	wantOptOut := []string{"arret", "cancel", "desabonner", "end", "opt out", "optout", "quit", "revoke",
		"stop", "stop all", "stopall", "unsubscribe"}
	if got := k.OptOutWords(); !slices.Equal(got, wantOptOut) {
		t.Errorf("OptOutWords() = %q, want %q", got, wantOptOut)
	}
	wantPolite := []string{"merci", "now", "please", "pls", "sil vous plait", "svp", "thank you", "thanks"}
	if got := k.Polite(); !slices.Equal(got, wantPolite) {
		t.Errorf("Polite() = %q, want %q", got, wantPolite)
	}
	if got, want := k.OptInWords(), []string{"reprendre", "start", "unstop"}; !slices.Equal(got, want) {
		t.Errorf("OptInWords() = %q, want %q", got, want)
	}
	if got, want := k.HelpWords(), []string{"aide", "help", "info"}; !slices.Equal(got, want) {
		t.Errorf("HelpWords() = %q, want %q", got, want)
	}
	// The accessors return copies.
	k.OptOutWords()[0] = "x"
	k.Polite()[0] = "x"
	if k.OptOutWords()[0] != "arret" || k.Polite()[0] != "merci" {
		t.Error("accessors expose the internal slices")
	}
	// The defaults are not changed by a flow's lists.
	NewKeywords("en", map[string]flows.KeywordSet{"en": {OptOut: []string{"X"}}})
	if got := NewKeywords("en", nil).OptOutWords(); !slices.Contains(got, "stop") {
		t.Errorf("defaults changed: %q", got)
	}
}

func TestKeywordKindString(t *testing.T) {
	for k, want := range map[KeywordKind]string{
		KeywordNone: "none", KeywordOptOut: "opt_out", KeywordOptIn: "opt_in", KeywordHelp: "help", 9: "KeywordKind(9)",
	} {
		if got := k.String(); got != want {
			t.Errorf("KeywordKind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

func TestPhraseMatcher(t *testing.T) {
	polite := NewKeywords("en", nil).Polite()
	yes := NewPhraseMatcher([]string{"yes", "y", "yeah", "ok", "okay", "sí"}, polite)
	no := NewPhraseMatcher([]string{"no", "n", "nope", "no thanks", "not now", "later"}, polite)
	tests := []struct {
		m      *PhraseMatcher
		in     string
		phrase string
		ok     bool
	}{
		{yes, "yes", "yes", true},
		{yes, "Yes please!", "yes", true},
		{yes, "YES 👍", "yes", true},
		{yes, "please, yes", "yes", true},
		{yes, "yes yes", "yes", true},
		{yes, "Yes, thank you", "yes", true},
		{yes, "Y", "y", true},
		{yes, "si", "sí", true},
		{yes, "Sí", "sí", true},
		{yes, "OK!", "ok", true},
		{yes, "yes but later", "", false},
		{yes, "yesterday", "", false},
		{yes, "yes no", "", false},
		{yes, "", "", false},
		{yes, "please", "", false},
		{no, "no", "no", true},
		{no, "No thanks", "no thanks", true}, // the longest phrase wins
		{no, "no thanks please", "no thanks", true},
		{no, "please no thanks", "no thanks", true},
		{no, "Not now", "not now", true},
		{no, "not now thanks", "not now", true},
		{no, "now", "", false},
		{no, "not", "", false},
		{no, "no way", "", false},
		{no, "later!", "later", true},
		{NewPhraseMatcher(nil, polite), "yes", "", false},
		{NewPhraseMatcher([]string{"yes"}, nil), "yes please", "", false},
		{NewPhraseMatcher([]string{"a b c"}, []string{"a", "c"}), "a b c", "a b c", true},
		{NewPhraseMatcher([]string{"b"}, []string{"a b c", "x"}), "a b c b x", "b", true},
		{NewPhraseMatcher([]string{"b"}, []string{"a b c", "x"}), "a b c", "", false},
	}
	for _, tt := range tests {
		phrase, ok := tt.m.Match(Normalize(tt.in))
		if phrase != tt.phrase || ok != tt.ok {
			t.Errorf("%q.Match(%q) = %q, %v, want %q, %v", tt.m.Phrases(), tt.in, phrase, ok, tt.phrase, tt.ok)
		}
	}
	if got, want := no.Phrases(), []string{"later", "n", "no", "no thanks", "nope", "not now"}; !slices.Equal(got, want) {
		t.Errorf("Phrases() = %q, want %q", got, want)
	}
}

func TestMatchAllocs(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled() {
		t.Skip("allocation counts are not meaningful with coverage or -race")
	}
	k := NewKeywords("fr", nil)
	for _, in := range []string{"stop", "please stop now", "arret merci", "where is the bus stop", "x y z w"} {
		if got := testing.AllocsPerRun(100, func() { k.MatchNormalized(in) }); got != 0 {
			t.Errorf("MatchNormalized(%q): %v allocations, want 0", in, got)
		}
	}
	if got := testing.AllocsPerRun(100, func() { k.Match("stop please") }); got != 0 {
		t.Errorf("Match(normal ASCII): %v allocations, want 0", got)
	}
}

func TestKeywordsConcurrent(t *testing.T) {
	k := NewKeywords("es", nil)
	done := make(chan bool)
	for g := 0; g < 8; g++ {
		go func() {
			ok := true
			for i := 0; i < 200; i++ {
				ok = ok && k.Match("🛑 ALTO, por favor 🛑").Kind == KeywordOptOut &&
					Normalize("ＳＴＯＰ Ça") == "stop ca"
			}
			done <- ok
		}()
	}
	for g := 0; g < 8; g++ {
		if !<-done {
			t.Error("wrong result under concurrency")
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range normalizeGoldenInputs {
		f.Add(s)
	}
	f.Add("a\u0345b\u0301\u0BC6\u0BBE")
	f.Add("\u1100\u1161\u11A8 \u115F\u1160")
	f.Add("ǅ ﬀ ΐ ẞ \u0130 \u212A")
	f.Add("🛑")
	f.Add("⛔ please")
	f.Add("s t o p")
	f.Add("stooop pleeease")
	k := NewKeywords("fr", nil)
	f.Fuzz(func(t *testing.T, s string) {
		out := Normalize(s)
		checkNormalized(t, s, out)
		if isASCII(s) {
			if slow := normalizeUnicode(s); slow != out {
				t.Fatalf("Normalize(%q) = %q, but the Unicode path gives %q", s, out, slow)
			}
		}
		if want := normalizeReference(s); out != want {
			t.Fatalf("Normalize(%q) = %q, reference %q", s, out, want)
		}
		m := k.Match(s)
		if (m.Kind == KeywordNone) != (m.Keyword == "") {
			t.Fatalf("Match(%q) = %+v", s, m)
		}
		if m != k.MatchMessage(s, out) {
			t.Fatalf("Match(%q) != MatchMessage(%q, %q)", s, s, out)
		}
		// MatchNormalized cannot see stop signs, which Normalize drops.
		if n := k.MatchNormalized(out); n != m && (n.Kind != KeywordNone || !hasStopEmoji(s)) {
			t.Fatalf("Match(%q) = %+v, but MatchNormalized(%q) = %+v", s, m, out, n)
		}
		k.MatchNormalized(s) // not normalised: must not panic
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

var benchMessages = []struct{ name, text string }{
	{"ascii-keyword", "STOP"},
	{"ascii-normal", "stop please"},
	{"ascii-polite", "Stop. Thank you!"},
	{"ascii-sentence", "Hi, where is my order? It was supposed to arrive yesterday."},
	{"emoji", "🛑 STOP 🛑"},
	{"fullwidth", "ＳＴＯＰ"},
	{"accents", "Arrêt, merci"},
}

var (
	sinkString string
	sinkMatch  Match
)

func BenchmarkNormalize(b *testing.B) {
	for _, m := range benchMessages {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkString = Normalize(m.text)
			}
		})
	}
}

func BenchmarkMatch(b *testing.B) {
	k := NewKeywords("fr", nil)
	for _, m := range benchMessages {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkMatch = k.Match(m.text)
			}
		})
		b.Run(m.name+"/normalized", func(b *testing.B) {
			n := Normalize(m.text)
			b.ReportAllocs()
			for b.Loop() {
				sinkMatch = k.MatchNormalized(n)
			}
		})
	}
}

// A match names the first active language listing the keyword: a hint of
// the customer's language.
func TestKeywordLanguage(t *testing.T) {
	k := NewKeywords("es", map[string]flows.KeywordSet{"fr": {}})
	for in, want := range map[string]string{"STOP": "en", "alto": "es", "Arrêt, merci": "fr", "AIDE": "fr", "ayuda": "es", "HELP": "en", "hola": ""} {
		if got := k.Match(in).Language; got != want {
			t.Errorf("Match(%q).Language = %q, want %q", in, got, want)
		}
	}
}
