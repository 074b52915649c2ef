package flows

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// NegativeAnswers are answers to an opt-in request that are no YES, by
// language: refusals ("no", "not now", "later"), opt-out words ("stop"),
// and unrelated messages ("what?", "hello", "?"). The key "" holds those of
// no language (punctuation and emoji).
//
// Only an affirmative answer may record consent, so none of these may take
// a transition with opt_in. The linter checks every opt_in transition
// against them (OB012 in docs/lint.md), and the compliance explorer sends
// each of them to every state that has an opt_in transition (P6 in
// docs/compliance.md). Both use every language's list, whatever the flow's
// languages: a customer answers in their own language, and no word here
// means yes in another of them.
//
// The texts are written as customers write them; matching normalises them
// as it does any message. Nothing here may be a yes in any language
// ("si", "ok", "sure", "ja" are not negatives), or a flow's honest YES
// keywords would fail the check.
var NegativeAnswers = map[string][]string{
	"": {"?", "??", "...", "👎", "❌", "🙅"},
	"en": {
		"no", "n", "nope", "nah", "no thanks", "no thank you", "not now", "later", "maybe later",
		"maybe", "never", "not interested", "no way", "i don't want", "don't", "stop", "cancel",
		"unsubscribe", "what?", "what is this?", "who is this?", "why?", "hello", "hi", "hey",
	},
	"es": {
		"no", "no gracias", "ahora no", "más tarde", "luego", "después", "quizás", "nunca",
		"no quiero", "no me interesa", "para nada", "basta", "alto", "¿qué?", "¿qué es esto?",
		"¿quién eres?", "hola", "buenas",
	},
	"fr": {
		"non", "non merci", "pas maintenant", "plus tard", "peut-être", "jamais",
		"je ne veux pas", "pas intéressé", "arrête", "arrêt", "quoi ?", "c'est quoi ?",
		"c'est qui ?", "bonjour", "salut",
	},
	"pt": {
		"não", "não obrigado", "não obrigada", "agora não", "mais tarde", "depois",
		"talvez", "nunca", "não quero", "não tenho interesse", "parar", "sair", "o quê?",
		"quem é?", "olá", "oi",
	},
	"de": {
		"nein", "nö", "nein danke", "nicht jetzt", "später", "vielleicht", "niemals", "nie",
		"kein interesse", "will ich nicht", "stopp", "was?", "wer ist da?", "hallo",
	},
	"it": {
		"no", "no grazie", "non ora", "non adesso", "più tardi", "dopo", "forse", "mai",
		"non mi interessa", "non voglio", "basta", "cosa?", "chi sei?", "ciao",
	},
}

// NegativeAnswer is one negative answer and the language it is in ("" for
// none).
type NegativeAnswer struct {
	Language string
	Text     string
}

// AllNegativeAnswers returns every negative answer of NegativeAnswers:
// English first, then the other languages by tag, then those of no
// language, each language's in the order listed. An answer listed in
// several languages is returned once, with the first of them.
func AllNegativeAnswers() []NegativeAnswer {
	var out []NegativeAnswer
	seen := map[string]bool{}
	langs := slices.SortedFunc(maps.Keys(NegativeAnswers), func(a, b string) int {
		rank := func(l string) int {
			switch l {
			case "en":
				return 0
			case "":
				return 2
			}
			return 1
		}
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
	})
	for _, lang := range langs {
		for _, text := range NegativeAnswers[lang] {
			if !seen[text] {
				seen[text] = true
				out = append(out, NegativeAnswer{Language: lang, Text: text})
			}
		}
	}
	return out
}
