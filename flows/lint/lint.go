package lint

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// The rule codes. They are stable: a code is never reused for another rule.
const (
	CodeNoBusiness      = "OB001" // opt-in request does not name the business
	CodeNoWhatsApp      = "OB002" // opt-in request does not say WhatsApp
	CodeNoTopic         = "OB003" // opt-in request does not describe the topic
	CodeNoOptOut        = "OB004" // opt-in request names no opt-out keyword
	CodeDroppedOptOut   = "OB005" // a keyword list leaves out a default opt-out word
	CodeGlobalKeyword   = "OB006" // a transition keyword is a global keyword
	CodeUngrantedTopic  = "OB007" // a template's topic no reachable state grants
	CodeButtonNoTarget  = "OB008" // a button or list row without a transition
	CodeUnreachable     = "OB009" // a state no goto reaches
	CodeDeadEnd         = "OB010" // a state from which the conversation never ends
	CodeOptInOnElse     = "OB011" // opt_in on an else transition
	CodeNegativeOptIn   = "OB012" // opt_in on keywords or a regex a negative answer takes
	CodeLoadProblem     = "load"  // the code of a load problem in --format json
	loadProblemDocument = "docs/flows.md#errors"
)

// Rule describes one rule.
type Rule struct {
	Code     string
	Severity Severity // the usual severity; OB005 is an error for STOP
	Summary  string
}

var rules = []Rule{
	{CodeNoBusiness, Error, "the opt-in request does not name the business"},
	{CodeNoWhatsApp, Error, "the opt-in request does not say WhatsApp"},
	{CodeNoTopic, Error, "the opt-in request does not describe the topic"},
	{CodeNoOptOut, Error, "the opt-in request names no opt-out keyword"},
	{CodeDroppedOptOut, Warning, "a keyword list leaves out a default opt-out word (an error for STOP)"},
	{CodeGlobalKeyword, Error, "a transition keyword is a global keyword, which always wins"},
	{CodeUngrantedTopic, Error, "a template's topic is granted by no reachable state"},
	{CodeButtonNoTarget, Warning, "a button or list row has no transition"},
	{CodeUnreachable, Warning, "a state is unreachable from the start state"},
	{CodeDeadEnd, Warning, "a state from which the conversation can never end"},
	{CodeOptInOnElse, Error, "an else transition records an opt-in"},
	{CodeNegativeOptIn, Error, "a negative answer (\"no\", \"later\", \"what?\") records an opt-in"},
}

// Rules returns every rule, in code order.
func Rules() []Rule { return slices.Clone(rules) }

// Lint checks a loaded flow and returns its findings sorted by position.
//
// src is the file's bytes as loaded. With it, findings point at what they
// are about: the text of a prompt, a keyword, a keyword list, a template's
// topic. Without it (nil), they point at the nearest position the flow
// holds: the state, transition, button or template; findings about a
// keyword list (OB005) then have no position.
//
// The global keywords are the flow's own, as the engine makes them
// (English, its language, the languages of its prompt variants and of its
// keywords: lists); per-business keyword overrides of a server's config
// are not seen.
func Lint(f *flows.Flow, src []byte) []Finding {
	c := &checker{f: f, loc: newLocator(src), kw: activeKeywords(f)}
	c.reach = reachable(f)
	c.optInRequests()
	c.keywordLists()
	c.transitions()
	c.negativeOptIns()
	c.templates()
	c.buttons()
	c.states()
	slices.SortStableFunc(c.out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return c.out
}

// activeKeywords returns the global keywords the engine answers for a
// flow: those of English, the flow's language, every language its prompts
// have a variant in, and its keywords: lists.
func activeKeywords(f *flows.Flow) *bot.Keywords {
	sets := make(map[string]flows.KeywordSet, len(f.Keywords)+len(f.Languages))
	for _, lang := range f.Languages {
		sets[lang] = flows.KeywordSet{} // the defaults of the language
	}
	for lang, set := range f.Keywords {
		sets[lang] = set
	}
	return bot.NewKeywords(f.Language, sets)
}

// checker holds one Lint.
type checker struct {
	f     *flows.Flow
	loc   locator
	kw    *bot.Keywords
	reach map[flows.StateName]bool // states reachable from the start
	out   []Finding
}

func (c *checker) add(pos flows.Pos, code string, sev Severity, format string, args ...any) {
	c.out = append(c.out, Finding{File: c.f.File, Pos: pos, Code: code, Severity: sev, Message: fmt.Sprintf(format, args...)})
}

// promptPos is the position of a state's prompt text.
func (c *checker) promptPos(st *flows.State) flows.Pos {
	pos := c.loc.pos(st.Pos, "states", string(st.Name), "prompt")
	return c.loc.pos(pos, "states", string(st.Name), "prompt", "text")
}

// optInRequests checks the prompt of every state with an opt_in
// transition, in the flow's language and in each of its variants
// (OB001-OB004).
func (c *checker) optInRequests() {
	optOut := c.kw.OptOutWords()
	for _, name := range c.f.StateOrder {
		st := c.f.States[name]
		var topics []flows.Topic
		for _, t := range st.On {
			if t.OptIn != "" && !slices.Contains(topics, t.OptIn) {
				topics = append(topics, t.OptIn)
			}
		}
		if len(topics) == 0 {
			continue
		}
		subject := "opt-in request of state " + quote(string(name))
		c.optInRequest(st.Prompt.Text, c.f.Language, c.promptPos(st), subject, topics, optOut, preferredOptOut(optOut))
		langs := make([]string, 0, len(st.Prompt.Variants))
		for lang := range st.Prompt.Variants {
			langs = append(langs, lang)
		}
		slices.Sort(langs)
		for _, lang := range langs {
			own := c.optOutOf(lang)
			words := slices.Clone(optOut)
			for _, w := range own {
				if !slices.Contains(words, w) {
					words = append(words, w)
				}
			}
			c.optInRequest(st.Prompt.Variants[lang].Text, lang, c.variantPos(st, lang),
				subject+" in language "+quote(lang), topics, words, preferredOptOut(own))
		}
		// Every variant of an experiment is an opt-in request a customer
		// may be shown, in each of its languages.
		for i, v := range st.Prompt.Experiment {
			vsubject := subject + ", experiment variant " + quote(v.ID)
			vpath := []any{"states", string(name), "prompt", "experiment", i}
			c.optInRequest(v.Text, c.f.Language, c.loc.pos(v.Pos, append(vpath, "text")...), vsubject, topics, optOut, preferredOptOut(optOut))
			for _, lang := range langs {
				text, ok := v.Languages[lang]
				if !ok {
					continue // the loader reports it
				}
				own := c.optOutOf(lang)
				words := slices.Clone(optOut)
				for _, w := range own {
					if !slices.Contains(words, w) {
						words = append(words, w)
					}
				}
				c.optInRequest(text, lang, c.loc.pos(v.Pos, append(vpath, "variants", lang)...),
					vsubject+" in language "+quote(lang), topics, words, preferredOptOut(own))
			}
		}
	}
}

// optInRequest checks one wording of an opt-in request, in language lang:
// it must name the business, say WhatsApp, describe every topic (by its
// description in lang, or an alias) and name one of optOut, the opt-out
// words; suggest is the one to propose.
func (c *checker) optInRequest(text, lang string, pos flows.Pos, subject string, topics []flows.Topic, optOut []string, suggest string) {
	w := bot.CheckWording(c.f, text, lang, topics, optOut)
	if !w.NamesBusiness {
		c.add(pos, CodeNoBusiness, Error, "%s does not name the business: say %s", subject, quote(c.f.Business))
	}
	if !w.SaysWhatsApp {
		c.add(pos, CodeNoWhatsApp, Error, "%s does not say that the messages come on WhatsApp", subject)
	}
	for _, topic := range w.Undescribed {
		def, ok := c.f.Topic(topic)
		if !ok {
			continue // the loader reports it
		}
		description := def.DescriptionFor(lang)
		aliases := ""
		if len(def.Aliases) > 0 {
			quoted := make([]string, len(def.Aliases))
			for i, a := range def.Aliases {
				quoted[i] = quote(a)
			}
			aliases = " or one of its aliases " + strings.Join(quoted, ", ")
		}
		if _, own := def.DescriptionVariants[lang]; !own && lang != c.f.Language {
			aliases += fmt.Sprintf(", or give the topic a description in language %s", quote(lang))
		}
		c.add(pos, CodeNoTopic, Error, "%s does not describe topic %s: include its description %s%s",
			subject, quote(string(topic)), quoteN(bot.DescriptionCore(description), maxQuotedText), aliases)
	}
	if !w.NamesOptOut {
		c.add(pos, CodeNoOptOut, Error, "%s names no opt-out keyword: tell the customer they can reply %s at any time to opt out",
			subject, suggest)
	}
}

// optOutOf returns the opt-out words of one language alone, normalised:
// the flow's list for it, or the engine's defaults.
func (c *checker) optOutOf(lang string) []string {
	set, ok := c.f.Keywords[lang]
	if !ok || set.OptOut == nil {
		return defaultOptOut(lang)
	}
	none := flows.KeywordSet{OptOut: []string{}, OptIn: []string{}, Help: []string{}, Polite: []string{}}
	return bot.NewKeywords(lang, map[string]flows.KeywordSet{"en": none, lang: {OptOut: set.OptOut, OptIn: []string{}, Help: []string{}, Polite: []string{}}}).OptOutWords()
}

// variantPos is the position of the text of a prompt's variant.
func (c *checker) variantPos(st *flows.State, lang string) flows.Pos {
	fallback := c.promptPos(st)
	n := c.loc.find("states", string(st.Name), "prompt", "variants", lang)
	switch {
	case n == nil:
		return fallback
	case n.Kind == yaml.MappingNode:
		return c.loc.pos(fallback, "states", string(st.Name), "prompt", "variants", lang, "text")
	}
	return c.loc.pos(fallback, "states", string(st.Name), "prompt", "variants", lang)
}

// preferredOptOut is the opt-out keyword to suggest: STOP when it is one,
// else the first.
func preferredOptOut(optOut []string) string {
	if len(optOut) == 0 || slices.Contains(optOut, "stop") {
		return "STOP"
	}
	return strings.ToUpper(optOut[0])
}

// keywordLists checks each opt_out list of the flow's keywords: against
// that language's defaults (OB005).
func (c *checker) keywordLists() {
	active := c.kw.OptOutWords()
	langs := make([]string, 0, len(c.f.Keywords))
	for lang := range c.f.Keywords {
		langs = append(langs, lang)
	}
	slices.Sort(langs)
	for _, lang := range langs {
		set := c.f.Keywords[lang]
		if set.OptOut == nil {
			continue // the defaults
		}
		var dropped []string
		stop := false
		for _, w := range defaultOptOut(lang) {
			if slices.Contains(active, w) {
				// Listed, or still a keyword through another language.
				continue
			}
			if w == "stop" {
				stop = true
			} else {
				dropped = append(dropped, strings.ToUpper(w))
			}
		}
		pos := c.loc.pos(flows.Pos{}, "keywords", lang, "opt_out")
		subject := "opt_out keywords for language " + quote(lang)
		if stop {
			c.add(pos, CodeDroppedOptOut, Error,
				"%s leave out STOP: customers who write STOP would no longer be opted out; add STOP back to the list", subject)
		}
		if len(dropped) > 0 {
			words := "word " + dropped[0]
			if len(dropped) > 1 {
				words = "words " + strings.Join(dropped, ", ")
			}
			c.add(pos, CodeDroppedOptOut, Warning,
				"%s leave out the default opt-out %s: customers who write them are no longer opted out", subject, words)
		}
	}
}

// defaultOptOut returns the engine's default opt-out words of a language
// alone, normalised and sorted; none for a language without defaults.
func defaultOptOut(lang string) []string {
	if lang == "en" {
		return bot.NewKeywords("en", nil).OptOutWords()
	}
	// English is always active; empty lists remove its words.
	none := flows.KeywordSet{OptOut: []string{}, OptIn: []string{}, Help: []string{}, Polite: []string{}}
	return bot.NewKeywords(lang, map[string]flows.KeywordSet{"en": none}).OptOutWords()
}

// transitions checks the triggers of every transition: keywords the global
// keywords take first (OB006) and consent on else (OB011).
func (c *checker) transitions() {
	for _, name := range c.f.StateOrder {
		st := c.f.States[name]
		for i, t := range st.On {
			where := fmt.Sprintf("transition %d of state %s", i+1, quote(string(name)))
			for k, w := range t.Keywords {
				m := c.kw.Match(w)
				if m.Kind == bot.KeywordNone {
					continue
				}
				pos := c.loc.pos(t.Pos, "states", string(name), "on", i, "keywords", k)
				c.add(pos, CodeGlobalKeyword, Error,
					"keyword %s of %s is the global %s keyword %s: the engine answers it first in every state (%s), so this transition never fires on it",
					quote(w), where, kindName(m.Kind), strings.ToUpper(m.Keyword), kindEffect(m.Kind))
			}
			if t.Else && t.OptIn != "" {
				pos := c.loc.pos(t.Pos, "states", string(name), "on", i, "opt_in")
				c.add(pos, CodeOptInOnElse, Error,
					"%s records opt_in %s on else: any message, even \"no\", would count as consent; opt in on a button or on keywords that mean yes",
					where, quote(string(t.OptIn)))
			}
		}
	}
}

func kindName(k bot.KeywordKind) string {
	switch k {
	case bot.KeywordOptOut:
		return "opt-out"
	case bot.KeywordOptIn:
		return "opt-in"
	case bot.KeywordUncertainOptOut:
		return "uncertain opt-out"
	}
	return "help"
}

func kindEffect(k bot.KeywordKind) string {
	switch k {
	case bot.KeywordOptOut:
		return "it ends every subscription and the conversation"
	case bot.KeywordOptIn:
		return "it restores what the latest STOP ended"
	case bot.KeywordUncertainOptOut:
		return "it asks the customer whether to stop messages"
	}
	return "it answers with the help text"
}

// templates checks that a customer can consent to each template's topic
// (OB007).
func (c *checker) templates() {
	reachable := make(map[flows.Topic]bool)
	unreachable := make(map[flows.Topic]flows.StateName) // first unreachable state granting it
	for _, name := range c.f.StateOrder {
		for _, t := range c.f.States[name].On {
			switch {
			case t.OptIn == "":
			case c.reach[name]:
				reachable[t.OptIn] = true
			case unreachable[t.OptIn] == "":
				unreachable[t.OptIn] = name
			}
		}
	}
	for i, tpl := range c.f.Templates {
		if def, ok := c.f.Topic(tpl.Topic); reachable[tpl.Topic] || ok && (len(def.GrantedBy) > 0 || def.Category == flows.CategoryAuthentication) {
			// Consented to in the chat, or granted from outside it, or a
			// one-time code the customer asked for, which needs no opt-in.
			continue
		}
		note := ""
		if s := unreachable[tpl.Topic]; s != "" {
			note = fmt.Sprintf(" (state %s does, but no goto leads to it)", quote(string(s)))
		}
		pos := c.loc.pos(tpl.Pos, "templates", i, "topic")
		c.add(pos, CodeUngrantedTopic, Error,
			"template %s sends topic %s, but no reachable state has a transition with opt_in: %s%s, so no customer of this flow can consent to it",
			quote(tpl.Name), quote(string(tpl.Topic)), tpl.Topic, note)
	}
}

// buttons checks that every button and list row has a transition (OB008).
func (c *checker) buttons() {
	for _, name := range c.f.StateOrder {
		st := c.f.States[name]
		handled := func(id string) bool {
			return slices.ContainsFunc(st.On, func(t flows.Transition) bool { return t.Button == id })
		}
		for _, b := range st.Prompt.Buttons {
			if handled(b.ID) {
				continue
			}
			c.add(b.Pos, CodeButtonNoTarget, Warning,
				"button %s of state %s has no transition: a tap is matched by its title %s like typed text, against the keywords and else",
				quote(b.ID), quote(string(name)), quote(b.Title))
		}
		if st.Prompt.List == nil {
			continue
		}
		for _, r := range st.Prompt.List.Rows {
			if handled(r.ID) {
				continue
			}
			c.add(r.Pos, CodeButtonNoTarget, Warning,
				"row %s of the list of state %s has no transition: a tap is matched by its title %s like typed text, against the keywords and else",
				quote(r.ID), quote(string(name)), quote(r.Title))
		}
	}
}

// states checks that every state is reachable (OB009) and can lead to the
// end of the conversation (OB010).
func (c *checker) states() {
	settled := settledStates(c.f)
	for _, name := range c.f.StateOrder {
		st := c.f.States[name]
		if !c.reach[name] {
			c.add(st.Pos, CodeUnreachable, Warning,
				"state %s is unreachable: no goto leads to it from the start state %s", quote(string(name)), quote(string(c.f.Start)))
			continue
		}
		if settled[name] {
			continue
		}
		c.add(st.Pos, CodeDeadEnd, Warning,
			"state %s is a dead end: no end: true, state without transitions or resting state can be reached from it, so the conversation never ends unless the customer opts out",
			quote(string(name)))
	}
}

// reachable returns the states reachable from the start by gotos.
func reachable(f *flows.Flow) map[flows.StateName]bool {
	seen := make(map[flows.StateName]bool)
	if _, ok := f.States[f.Start]; !ok {
		return seen
	}
	seen[f.Start] = true
	queue := []flows.StateName{f.Start}
	for len(queue) > 0 {
		st := f.States[queue[0]]
		queue = queue[1:]
		for _, t := range st.On {
			if t.GotoFlow != "" {
				continue // a state of another flow
			}
			if _, ok := f.States[t.Goto]; ok && !seen[t.Goto] {
				seen[t.Goto] = true
				queue = append(queue, t.Goto)
			}
		}
	}
	return seen
}

// settledStates returns the states from which the conversation can reach
// an end or a rest: a state without transitions (it ends after its
// prompt), a state with an end: true, handoff or goto to another flow (the
// conversation leaves this one), a resting state (every transition goes
// back to it: "subscribed", answering whatever comes with its prompt), or
// a state from which a goto leads to one of these.
func settledStates(f *flows.Flow) map[flows.StateName]bool {
	settled := make(map[flows.StateName]bool)
	for name, st := range f.States {
		ends, rests := len(st.On) == 0, true
		for _, t := range st.On {
			ends = ends || t.End || t.Handoff != "" || t.GotoFlow != ""
			rests = rests && t.Goto == name && t.GotoFlow == ""
		}
		if ends || rests {
			settled[name] = true
		}
	}
	// Propagate backwards to a fixed point; flows are small.
	for changed := true; changed; {
		changed = false
		for name, st := range f.States {
			if settled[name] {
				continue
			}
			for _, t := range st.On {
				if t.GotoFlow == "" && settled[t.Goto] {
					settled[name], changed = true, true
					break
				}
			}
		}
	}
	return settled
}

// How many runes of a value a message quotes: of a name, and of a text the
// author is asked to copy.
const (
	maxQuoted     = 40
	maxQuotedText = 200
)

// quote returns s in single quotes for a message, shortened to maxQuoted
// runes, or as a Go string literal when single quotes would be ambiguous;
// as flows quotes names in its problems.
func quote(s string) string { return quoteN(s, maxQuoted) }

// quoteN is quote shortened to max runes.
func quoteN(s string, max int) string {
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	for _, r := range s {
		if r == '\'' || r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return "'" + s + "'"
}
