package flows

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The keys allowed in each kind of mapping, in the order the docs give them
// (the order of "allowed keys are ..." in messages).
var (
	flowKeys       = []string{"name", "business", "language", "help", "opt_in_expiry", "messages", "handoff", "keywords", "vars", "fragments", "topics", "templates", "start", "states"}
	messageKeys    = []string{"stopped", "restarted", "not_stopped", "handoff", "handoff_timeout", "handoff_released", "confirm_stop", "stop_declined"}
	keywordSetKeys = []string{"opt_out", "opt_in", "help", "polite"}
	topicKeys      = []string{"category", "description", "aliases", "frequency_cap", "granted_by"}
	templateKeys   = []string{"name", "language", "topic"}
)

var (
	// languageRe is a flow's language: a BCP 47 primary language subtag.
	languageRe = regexp.MustCompile(`^[a-z]{2,3}$`)
	// templateLanguageRe is a template's language as WhatsApp names them:
	// "en", "fil", or with a region, "en_US".
	templateLanguageRe = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
	// topicRe is a topic name; topics end up in consent records and
	// reports, so they are kept to lowercase identifiers.
	topicRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// GrantSources are the sources other than the chat itself that may grant
// a topic (`granted_by:`), in documentation order. They are the values of
// bot.Source but for in_channel, the chat: flows cannot import bot, so the
// list lives here. Keep the two in sync; flows/lint's tests check that they
// are.
var GrantSources = []string{"web", "signup", "sms_campaign", "email_campaign", "live_chat", "api", "provider"}

// flow decodes the top-level mapping into f.
func (l *loader) flow(root *yaml.Node, f *Flow) {
	root = l.Resolve(root)
	if root.Kind != yaml.MappingNode {
		l.WrongKind(root, "a flow", "a mapping with keys such as business and states")
		return
	}
	fs := l.Fields(root, "at the top level", flowKeys)
	l.header(root, fs, f)
	l.language = f.Language
	if fd, ok := fs.Get("messages"); ok {
		f.Messages = l.messages(fd.Value)
	}
	if fd, ok := fs.Get("handoff"); ok {
		f.HandoffTimeout = l.handoffSettings(fd.Value)
	}
	if f.HandoffTimeout == 0 {
		f.HandoffTimeout = DefaultHandoffTimeout
	}
	if fd, ok := fs.Get("keywords"); ok {
		f.Keywords = l.keywords(fd.Value)
	}
	// Variables and fragments come before the states that use them,
	// wherever they are in the file.
	if fd, ok := fs.Get("vars"); ok {
		f.Vars = l.decodeVars(fd.Value)
	}
	if fd, ok := fs.Get("fragments"); ok {
		l.decodeFragments(fd.Value)
	}
	if fd, ok := fs.Get("topics"); ok {
		f.Topics = l.topics(fd.Value)
	}
	if fd, ok := fs.Get("templates"); ok {
		f.Templates = l.templates(fd.Value, f.Language)
	}
	l.states(root, fs, f)
}

// header decodes the flow's scalar settings: name, business, language, help
// and start.
func (l *loader) header(root *yaml.Node, fs fieldMap, f *Flow) {
	if fd, ok := fs.Get("name"); ok {
		if s, ok := l.RequiredText(fd.Value, "name"); ok {
			f.Name = s
		}
	}
	if fd, ok := fs.Get("business"); ok {
		if s, ok := l.RequiredText(fd.Value, "business name"); ok {
			f.Business = s
		}
	} else if fs.Missing("business") {
		l.Addf(root, "missing business name (add business: with the name customers know)")
	}
	if fd, ok := fs.Get("language"); ok {
		if s, ok := l.Text(fd.Value, "language"); ok {
			if languageRe.MatchString(s) {
				f.Language = s
				l.language = s
			} else {
				l.Addf(l.Resolve(fd.Value), "invalid language %s: use a 2-3 letter lowercase code such as 'en'", quote(s))
			}
		}
	}
	if fd, ok := fs.Get("help"); ok {
		f.Help, f.HelpVariants = l.localized(fd.Value, "help", false)
	}
	if fd, ok := fs.Get("opt_in_expiry"); ok {
		f.OptInExpiry = l.optInExpiry(fd.Value)
	}
	if fd, ok := fs.Get("start"); ok {
		if s, ok := l.RequiredText(fd.Value, "start"); ok {
			f.Start = StateName(s)
			l.refs = append(l.refs, ref{kind: refState, name: s, node: l.Resolve(fd.Value), use: "start"})
		}
	}
}

// optInExpiry decodes opt_in_expiry: a duration above 0 and at most the
// customer service window, since a request the customer answers after
// the window closed is stale whatever the flow says.
func (l *loader) optInExpiry(n *yaml.Node) time.Duration {
	s, ok := l.Text(n, "opt_in_expiry")
	if !ok {
		return 0
	}
	n = l.Resolve(n)
	d, err := time.ParseDuration(strings.TrimSpace(s))
	switch {
	case err != nil || strings.TrimSpace(s) == "":
		l.Addf(n, "opt_in_expiry must be a duration such as 1h or 30m; found %s", l.Describe(n))
	case d <= 0:
		l.Addf(n, "opt_in_expiry must be above 0; found %s", l.Describe(n))
	case d > windowLength:
		l.Addf(n, "opt_in_expiry must be at most 24h: an opt-in request expires at the latest when the customer service window closes; found %s", l.Describe(n))
	default:
		return d
	}
	return 0
}

// messages decodes the wording of the global keyword answers.
func (l *loader) messages(n *yaml.Node) Messages {
	var m Messages
	n, ok := l.mapping(n, "messages", "a mapping with stopped, restarted, not_stopped, handoff, handoff_timeout, handoff_released, confirm_stop and stop_declined")
	if !ok {
		return m
	}
	fs := l.Fields(n, "in messages", messageKeys)
	field := messageFields
	for i, key := range messageKeys {
		fd, ok := fs.Get(key)
		if !ok {
			continue
		}
		text, variants := l.localized(fd.Value, key+" in messages", false)
		*field[i](&m) = text
		for lang, s := range variants {
			if m.Variants == nil {
				m.Variants = make(map[string]Messages)
			}
			v := m.Variants[lang]
			*field[i](&v) = s
			m.Variants[lang] = v
		}
	}
	return m
}

// localized decodes a text that may be given per language: a string, in
// the flow's language, or a mapping of languages to strings, which must
// give the flow's language. It returns the text in the flow's language,
// trimmed, and those in the other languages (nil when there are none). A
// string may be blank unless required; a text in a mapping may not.
func (l *loader) localized(n *yaml.Node, subject string, required bool) (string, map[string]string) {
	n = l.Resolve(n)
	switch n.Kind {
	case yaml.ScalarNode:
		var s string
		if required {
			s, _ = l.RequiredText(n, subject)
		} else {
			s, _ = l.Text(n, subject)
		}
		return strings.TrimSpace(s), nil
	case yaml.MappingNode:
	default:
		l.WrongKind(n, subject, "a string, or a mapping of language codes to strings")
		return "", nil
	}
	var own string
	found := false
	var out map[string]string
	for _, e := range l.entries(n, "in "+subject, "language") {
		lang := e.Key.Value
		if !languageRe.MatchString(lang) {
			l.Addf(e.Key, "invalid language %s in %s: use a 2-3 letter lowercase code such as 'fr'", quote(lang), subject)
			continue
		}
		if lang == l.language {
			found = true
		}
		s, ok := l.RequiredText(e.Value, subject+" in language "+quote(lang))
		switch {
		case !ok:
		case lang == l.language:
			own = s
		default:
			if out == nil {
				out = make(map[string]string)
			}
			out[lang] = s
		}
	}
	if !found {
		l.Addf(n, "%s gives no text in the flow's language %s: add %s: to the mapping (a text in every other language falls back to it)",
			subject, quote(l.language), l.language)
	}
	return own, out
}

// keywords decodes the per-language global keyword lists.
func (l *loader) keywords(n *yaml.Node) map[string]KeywordSet {
	n, ok := l.mapping(n, "keywords", "a mapping of language codes to keyword lists")
	if !ok {
		return nil
	}
	out := make(map[string]KeywordSet)
	for _, e := range l.entries(n, "in keywords", "language") {
		lang := e.Key.Value
		if !languageRe.MatchString(lang) {
			l.Addf(e.Key, "invalid language %s in keywords: use a 2-3 letter lowercase code such as 'en'", quote(lang))
		}
		out[lang] = l.keywordSet(lang, e.Value)
	}
	return out
}

// keywordSet decodes one language's keyword lists. A list given replaces the
// engine's default one, even when empty, except that an empty opt_out list
// is refused: it would leave customers no keyword to stop with.
func (l *loader) keywordSet(lang string, n *yaml.Node) KeywordSet {
	var ks KeywordSet
	where := "keywords for language " + quote(lang)
	n, ok := l.mapping(n, where, "a mapping with opt_out, opt_in, help and polite lists")
	if !ok {
		return ks
	}
	fs := l.Fields(n, "in "+where, keywordSetKeys)
	lists := []*[]string{&ks.OptOut, &ks.OptIn, &ks.Help, &ks.Polite} // as keywordSetKeys
	for i, kind := range keywordSetKeys {
		fd, ok := fs.Get(kind)
		if !ok {
			continue
		}
		subject := kind + " " + where
		_, words := l.words(fd.Value, subject)
		*lists[i] = append([]string{}, words...) // non-nil: given, so it replaces the default
		if kind == "opt_out" && isEmptyList(l.Resolve(fd.Value)) {
			l.Addf(l.Resolve(fd.Value), "%s is empty: customers must always have a keyword to opt out with (leave the list out to keep the defaults)", subject)
		}
	}
	return ks
}

// normKeyword is the form in which two keywords are the same one.
func normKeyword(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// topics decodes the topic declarations.
func (l *loader) topics(n *yaml.Node) []TopicDef {
	n, ok := l.mapping(n, "topics", "a mapping of topic names to topics")
	if !ok {
		return nil
	}
	var out []TopicDef
	for _, e := range l.entries(n, "in topics", "topic") {
		out = append(out, l.topic(e))
	}
	return out
}

// topic decodes one topic declaration. It returns the topic even when it
// has problems, so that uses of it do not also report it as unknown.
func (l *loader) topic(e field) TopicDef {
	name := e.Key.Value
	t := TopicDef{Name: Topic(name), Pos: posOf(e.Key)}
	switch {
	case name == string(TopicAll):
		l.Addf(e.Key, "topic name 'all' is reserved: opt_out: all opts out of every topic")
	case !topicRe.MatchString(name):
		l.Addf(e.Key, "invalid topic name %s: use lowercase letters, digits and '_', starting with a letter", quote(name))
	}
	where := "topic " + quote(name)
	n, ok := l.mapping(e.Value, where, "a mapping with category and description")
	if !ok {
		if isNull(n) {
			l.Addf(e.Key, "%s needs a category and a description", where)
		}
		return t
	}
	fs := l.Fields(n, "in "+where, topicKeys)
	if fd, ok := fs.Get("category"); ok {
		t.Category = l.category(fd.Value, where)
	} else if fs.Missing("category") {
		l.Addf(e.Key, "missing category in %s; allowed are %s", where, strings.Join(categoryNames(), ", "))
	}
	if fd, ok := fs.Get("description"); ok {
		t.Description, t.DescriptionVariants = l.localized(fd.Value, "description of "+where, true)
	} else if fs.Missing("description") {
		l.Addf(e.Key, "missing description in %s (say what the customer will receive)", where)
	}
	if fd, ok := fs.Get("aliases"); ok {
		_, t.Aliases = l.words(fd.Value, "aliases of "+where)
	}
	if fd, ok := fs.Get("frequency_cap"); ok {
		t.FrequencyCap = l.positiveInt(fd.Value, "frequency_cap of "+where)
	}
	if fd, ok := fs.Get("granted_by"); ok {
		t.GrantedBy = l.grantSources(fd.Value, where)
	}
	return t
}

// positiveInt reads a whole number above 0; it returns 0 after reporting
// anything else.
func (l *loader) positiveInt(n *yaml.Node, subject string) int {
	n = l.Resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		if v, err := strconv.ParseInt(n.Value, 0, 32); err == nil && v > 0 {
			return int(v)
		}
	}
	l.Addf(n, "%s must be a whole number above 0; found %s", subject, l.Describe(n))
	return 0
}

// grantSources decodes a topic's granted_by list.
func (l *loader) grantSources(n *yaml.Node, where string) []string {
	subject := "granted_by of " + where
	nodes, words := l.words(n, subject)
	var out []string
	for i, w := range words {
		switch {
		case w == "in_channel":
			l.Addf(nodes[i], "source 'in_channel' in %s is the chat itself, which grants a topic through a transition's opt_in; granted_by lists the other sources", subject)
		case !slices.Contains(GrantSources, w):
			hint := didYouMean(w, GrantSources)
			if hint == "" {
				hint = "; allowed are " + strings.Join(GrantSources, ", ")
			}
			l.Addf(nodes[i], "unknown source %s in %s%s", quote(w), subject, hint)
		case slices.Contains(out, w):
			l.Addf(nodes[i], "source %s is listed twice in %s", quote(w), subject)
		default:
			out = append(out, w)
		}
	}
	return out
}

// category decodes a topic's category.
func (l *loader) category(n *yaml.Node, where string) Category {
	s, ok := l.Text(n, "category of "+where)
	if !ok {
		return ""
	}
	if slices.Contains(Categories, Category(s)) {
		return Category(s)
	}
	hint := didYouMean(s, categoryNames())
	if hint == "" {
		hint = "; allowed are " + strings.Join(categoryNames(), ", ")
	}
	l.Addf(l.Resolve(n), "invalid category %s in %s%s", quote(s), where, hint)
	return ""
}

func categoryNames() []string {
	names := make([]string, len(Categories))
	for i, c := range Categories {
		names[i] = string(c)
	}
	return names
}

// templates decodes the template declarations. A template is identified by
// its name and language, as in WhatsApp.
func (l *loader) templates(n *yaml.Node, flowLanguage string) []Template {
	items := l.sequence(n, "templates", "a list of templates")
	var out []Template
	first := make(map[[2]string]int) // name, language -> line
	for i, item := range items {
		t, ok := l.template(i+1, item, flowLanguage)
		if !ok {
			continue
		}
		id := [2]string{t.Name, t.Language}
		if line, dup := first[id]; dup {
			l.AddAt(t.Pos.Line, t.Pos.Col, "duplicate template %s in language %s (first at line %d)", quote(t.Name), quote(t.Language), line)
			continue
		}
		first[id] = t.Pos.Line
		out = append(out, t)
	}
	return out
}

// template decodes the i'th template; ok is false if it has no name.
func (l *loader) template(i int, item *yaml.Node, flowLanguage string) (t Template, ok bool) {
	where := fmt.Sprintf("template %d", i)
	n, ok := l.mapping(item, where, "a mapping with name, language and topic")
	if !ok {
		if isNull(n) {
			l.Addf(n, "%s is empty: give its name, language and topic", where)
		}
		return t, false
	}
	t = Template{Language: flowLanguage, Pos: posOf(n)}
	fs := l.Fields(n, "in "+where, templateKeys)
	if fd, ok := fs.Get("name"); ok {
		t.Name, _ = l.RequiredText(fd.Value, "name of "+where)
	} else if fs.Missing("name") {
		l.Addf(n, "missing name in %s", where)
	}
	if fd, ok := fs.Get("language"); ok {
		if s, ok := l.Text(fd.Value, "language of "+where); ok {
			if templateLanguageRe.MatchString(s) {
				t.Language = s
			} else {
				l.Addf(l.Resolve(fd.Value), "invalid language %s in %s: use a WhatsApp language code such as 'en' or 'en_US'", quote(s), where)
			}
		}
	}
	if fd, ok := fs.Get("topic"); ok {
		if s, ok := l.RequiredText(fd.Value, "topic of "+where); ok {
			t.Topic = Topic(s)
			l.refs = append(l.refs, ref{kind: refTopic, name: s, node: l.Resolve(fd.Value), use: where})
		}
	} else if fs.Missing("topic") {
		l.Addf(n, "missing topic in %s: say which topic it sends", where)
	}
	return t, t.Name != ""
}
