package bot

import (
	"slices"
	"strings"

	"github.com/optinbot/optinbot/flows"
)

// Wording is what an opt-in text says of what consent needs: the text of an
// opt-in request (a prompt with an opt_in transition, checked by lint) or
// the wording of a consent grant collected outside the chat (checked by
// the engine before it records the grant). One checker serves both, so
// that a grant is held to the same standard as a prompt.
type Wording struct {
	// NamesBusiness: the text holds the flow's business name as whole
	// words, ignoring case, accents and punctuation.
	NamesBusiness bool
	// SaysWhatsApp: the text holds the word "WhatsApp" (or "Whats App",
	// "Whats-App": punctuation counts as a space). "WA" does not count: it
	// is as often a place or a person's initials.
	SaysWhatsApp bool
	// Undescribed are the topics, of those asked about, that the text
	// does not describe by their description or one of their aliases.
	Undescribed []flows.Topic
	// NamesOptOut: the text holds one of the opt-out words asked about.
	NamesOptOut bool
}

// CheckWording checks an opt-in text of flow f against what consent needs:
// the business's name, WhatsApp, each of topics, and one of optOut (the
// normalised opt-out words; none given, NamesOptOut is false).
//
// In the text, {{business}} is the business's name; any other variable
// counts as nothing, since its value changes per conversation. A topic is
// described by its description in lang, or its aliases; lang "" accepts
// its description in any language it has one in (a grant's wording comes
// in no known language). Text in parentheses in a description is detail
// the text may leave out. A description that normalises to nothing (only
// emoji) cannot be checked, and passes.
func CheckWording(f *flows.Flow, text, lang string, topics []flows.Topic, optOut []string) Wording {
	text = Normalize(flows.Interpolate(text, func(name string) string {
		if name == flows.VarBusiness {
			return f.Business
		}
		return " "
	}))
	var w Wording
	business := Normalize(f.Business)
	w.NamesBusiness = business == "" || HasPhrase(text, business)
	w.SaysWhatsApp = HasPhrase(text, "whatsapp") || HasPhrase(text, "whats app")
	for _, topic := range topics {
		if !describesTopic(f, text, lang, topic) {
			w.Undescribed = append(w.Undescribed, topic)
		}
	}
	w.NamesOptOut = slices.ContainsFunc(optOut, func(word string) bool { return HasPhrase(text, word) })
	return w
}

// describesTopic reports whether the normalised text describes a topic.
// A topic the flow does not declare is described by nothing.
func describesTopic(f *flows.Flow, text, lang string, topic flows.Topic) bool {
	def, ok := f.Topic(topic)
	if !ok {
		return false
	}
	descriptions := []string{def.DescriptionFor(lang)}
	if lang == "" {
		descriptions = append(descriptions, def.Description)
		for _, l := range sortedKeys(def.DescriptionVariants) {
			descriptions = append(descriptions, def.DescriptionVariants[l])
		}
	}
	descriptions = append(descriptions, def.Aliases...)
	return slices.ContainsFunc(descriptions, func(d string) bool { return Describes(text, d) })
}

// HasPhrase reports whether the normalised text holds the normalised
// phrase as whole words.
func HasPhrase(text, phrase string) bool {
	return phrase != "" && strings.Contains(" "+text+" ", " "+phrase+" ")
}

// Describes reports whether the normalised text describes a topic by one
// description: it holds the description, or the description without its
// parenthesised parts (detail such as "(confirmation, shipping and
// delivery)"), as whole words after normalisation. A description that
// normalises to nothing (only emoji) cannot be checked and passes.
func Describes(text, description string) bool {
	full := Normalize(description)
	core := Normalize(DescriptionCore(description))
	return full == "" || HasPhrase(text, full) || HasPhrase(text, core)
}

// DescriptionCore returns the description without its parenthesised parts,
// or the description itself when that would leave nothing.
func DescriptionCore(description string) string {
	var b strings.Builder
	depth := 0
	for _, r := range description {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	core := strings.Join(strings.Fields(b.String()), " ")
	if Normalize(core) == "" {
		return description
	}
	return core
}
