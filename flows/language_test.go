package flows

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// base is a flow header for the tests of the full language; tests append
// states.
const base = `business: Acme
vars:
  name: friend
fragments:
  stop: Reply STOP to opt out.
topics:
  news:
    category: marketing
    description: news
states:
`

// newSyntaxSeeds are valid flows using the newer parts of the language;
// FuzzLoad starts from them too.
var newSyntaxSeeds = []string{
	base + `  a:
    prompt: "Hi {{name}}, {{ customer }}! {{> stop}}"
`,
	base + `  a:
    prompt:
      text: Pick
      list:
        button: Options
        rows:
          - {id: one, title: One, description: The first}
          - {id: two, title: Two}
      variants:
        es:
          text: Elige
          list: {button: Opciones, rows: [{id: two, title: Dos}, {id: one, title: Uno}]}
        de: Wähle
    on:
      - button: one
        goto: a
      - button: two
        end: true
`,
	base + `  a:
    prompt:
      text: Yes?
      buttons: [{id: y, title: "Yes"}, {id: n, title: "No"}]
      variants: {fr: {text: "Oui ?", buttons: [{id: y, title: Oui}, {id: n, title: Non}]}}
    on:
      - regex: '(?i)^y'
        capture: answer
        set: {language: fr, echo: "you said {{answer}}"}
        goto: other/start
      - after: 90m
        goto: a
      - before_window_closes: 1h
        opt_out: news
        end: true
      - else: true
        handoff: support.tier-1
`,
	// Texts per language: help, messages and topic descriptions.
	`business: Acme
help:
  fr: " Aide d'Acme. "
  es: Ayuda de Acme.
messages:
  stopped: {es: "Adiós de {business}.", en: "Bye from {business}."}
  not_stopped: Nada que reanudar.
language: es
topics:
  news:
    category: marketing
    description: {es: noticias, fr: nouvelles}
  offers:
    category: marketing
    description: ofertas
states:
  a:
    prompt: Hola
`,
}

func TestLoadNewSyntax(t *testing.T) {
	f := mustLoad(t, "x.yaml", newSyntaxSeeds[0])
	if got, want := f.States["a"].Prompt.Text, "Hi {{name}}, {{customer}}! Reply STOP to opt out."; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if !reflect.DeepEqual(f.Vars, map[string]string{"name": "friend"}) || !slices.Equal(f.Languages, []string{"en"}) {
		t.Errorf("Vars = %v, Languages = %q", f.Vars, f.Languages)
	}

	f = mustLoad(t, "x.yaml", newSyntaxSeeds[1])
	p := f.States["a"].Prompt
	wantList := &List{Button: "Options", Pos: Pos{15, 9}, Rows: []Row{
		{ID: "one", Title: "One", Description: "The first", Pos: Pos{17, 13}},
		{ID: "two", Title: "Two", Pos: Pos{18, 13}},
	}}
	if !reflect.DeepEqual(p.List, wantList) {
		t.Errorf("List = %+v", p.List)
	}
	if !slices.Equal(f.Languages, []string{"en", "de", "es"}) {
		t.Errorf("Languages = %q", f.Languages)
	}
	if v := p.Variants["de"]; v.Text != "Wähle" || v.List != nil || v.Buttons != nil {
		t.Errorf("de = %+v", v)
	}
	es := p.ForLanguage("es")
	if es.Text != "Elige" || es.List.Button != "Opciones" || es.List.Rows[0].ID != "two" {
		t.Errorf("ForLanguage(es) = %+v", es)
	}
	if de := p.ForLanguage("de"); de.List != p.List || de.Text != "Wähle" {
		t.Errorf("ForLanguage(de) = %+v", de)
	}
	if en := p.ForLanguage("en"); en.Text != "Pick" {
		t.Errorf("ForLanguage(en) = %+v", en)
	}

	f = mustLoad(t, "x.yaml", newSyntaxSeeds[2])
	on := f.States["a"].On
	if len(on) != 4 {
		t.Fatalf("On = %+v", on)
	}
	if on[0].Regex == nil || on[0].Regex.String() != "(?i)^y" || on[0].Capture != "answer" ||
		!reflect.DeepEqual(on[0].Set, map[string]string{"language": "fr", "echo": "you said {{answer}}"}) ||
		on[0].GotoFlow != "other" || on[0].Goto != "start" {
		t.Errorf("transition 1 = %+v", on[0])
	}
	if on[1].After != 90*time.Minute || on[1].Goto != "a" || !on[1].IsTimer() {
		t.Errorf("transition 2 = %+v", on[1])
	}
	if on[2].BeforeWindowCloses != time.Hour || on[2].OptOut != "news" || !on[2].End || !on[2].IsTimer() {
		t.Errorf("transition 3 = %+v", on[2])
	}
	if !on[3].Else || on[3].Handoff != "support.tier-1" || on[3].IsTimer() {
		t.Errorf("transition 4 = %+v", on[3])
	}
	if !slices.Equal(f.Languages, []string{"en", "fr"}) {
		t.Errorf("Languages = %q", f.Languages)
	}
}

func TestLoadLocalized(t *testing.T) {
	f := mustLoad(t, "x.yaml", newSyntaxSeeds[3])
	if f.Help != "Ayuda de Acme." || !reflect.DeepEqual(f.HelpVariants, map[string]string{"fr": "Aide d'Acme."}) {
		t.Errorf("Help = %q, HelpVariants = %q", f.Help, f.HelpVariants)
	}
	for lang, want := range map[string]string{"es": "Ayuda de Acme.", "fr": "Aide d'Acme.", "de": "Ayuda de Acme.", "": "Ayuda de Acme."} {
		if got := f.HelpFor(lang); got != want {
			t.Errorf("HelpFor(%q) = %q, want %q", lang, got, want)
		}
	}
	m := f.Messages
	want := Messages{Stopped: "Adiós de {business}.", NotStopped: "Nada que reanudar.",
		Variants: map[string]Messages{"en": {Stopped: "Bye from {business}."}}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("Messages = %+v, want %+v", m, want)
	}
	if en := m.For("en"); en.Stopped != "Bye from {business}." || en.NotStopped != "Nada que reanudar." || en.Restarted != "" {
		t.Errorf("For(en) = %+v", en)
	}
	if fr := m.For("fr"); !reflect.DeepEqual(fr, m) {
		t.Errorf("For(fr) = %+v, want the flow language's %+v", fr, m)
	}
	news, _ := f.Topic("news")
	offers, _ := f.Topic("offers")
	if news.Description != "noticias" || !reflect.DeepEqual(news.DescriptionVariants, map[string]string{"fr": "nouvelles"}) || offers.DescriptionVariants != nil {
		t.Errorf("topics = %+v", f.Topics)
	}
	if news.DescriptionFor("fr") != "nouvelles" || news.DescriptionFor("de") != "noticias" || offers.DescriptionFor("fr") != "ofertas" {
		t.Errorf("DescriptionFor: %q %q %q", news.DescriptionFor("fr"), news.DescriptionFor("de"), offers.DescriptionFor("fr"))
	}
	// Only prompts make languages: a help text in French does not let a
	// transition set the language to fr.
	if !slices.Equal(f.Languages, []string{"es"}) {
		t.Errorf("Languages = %q", f.Languages)
	}
	// A string keeps working as before, in the flow's language.
	f = mustLoad(t, "x.yaml", "business: Acme\nhelp: \" Help. \"\nmessages: {stopped: Bye}\nstates: {a: {prompt: Hi}}\n")
	if f.Help != "Help." || f.HelpVariants != nil || f.HelpFor("fr") != "Help." || f.Messages.Variants != nil || f.Messages.For("fr").Stopped != "Bye" {
		t.Errorf("plain strings: %q %q %+v", f.Help, f.HelpVariants, f.Messages)
	}
}

const topicExtras = `business: Acme
topics:
  news:
    category: marketing
    description: news
    aliases: [weekly news, " noticias "]
    frequency_cap: 2
    granted_by: [web, api]
states:
  a:
    prompt: Hi
`

func TestLoadTopicExtras(t *testing.T) {
	f := mustLoad(t, "x.yaml", topicExtras)
	want := TopicDef{Name: "news", Category: CategoryMarketing, Description: "news", Aliases: []string{"weekly news", "noticias"},
		FrequencyCap: 2, GrantedBy: []string{"web", "api"}, Pos: Pos{3, 3}}
	if !reflect.DeepEqual(f.Topics[0], want) {
		t.Errorf("topic = %+v, want %+v", f.Topics[0], want)
	}
}

func TestInterpolate(t *testing.T) {
	vals := map[string]string{"name": "Ana", "n": "{{name}}"}
	value := func(k string) string { return vals[k] }
	for in, want := range map[string]string{
		"":                      "",
		"plain":                 "plain",
		"Hi {{name}}!":          "Hi Ana!",
		"{{name}}{{name}}":      "AnaAna",
		"{{missing}}.":          ".",
		"{{n}}":                 "{{name}}", // values are not expanded again
		"{{ name }} {{Name}}":   "{{ name }} {{Name}}",
		"{{name":                "{{name",
		"{{{name}}}":            "{{{name}}}",
		"a }} b {{name}} {{ c ": "a }} b Ana {{ c ",
	} {
		if got := Interpolate(in, value); got != want {
			t.Errorf("Interpolate(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLoadLanguageProblems checks single rules of the newer parts of the
// language; testdata/broken has the full messages of many more.
func TestLoadLanguageProblems(t *testing.T) {
	state := func(s string) string { return base + "  a:\n" + s }
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unknown variable with suggestion",
			src:  state("    prompt: Hi {{nmae}}\n"),
			want: []string{"12:13: unknown variable 'nmae' in prompt of state 'a'; did you mean 'name'?"},
		},
		{
			name: "unknown variable without suggestion",
			src:  state("    prompt: Hi {{colour}}\n"),
			want: []string{"12:13: unknown variable 'colour' in prompt of state 'a'; declare it under vars:, or set or capture it in a transition"},
		},
		{
			name: "variables set or captured anywhere are known",
			src: state(`    prompt: "{{later}} {{answer}} {{business}} {{language}}"
  b:
    prompt: Hi
    on:
      - keywords: [x]
        set: {later: "1"}
        goto: a
      - else: true
        capture: answer
        goto: a
`),
		},
		{
			name: "unknown fragment",
			src:  state("    prompt: Hi {{> stpo}}\n"),
			want: []string{"12:13: unknown fragment 'stpo' in prompt of state 'a'; did you mean 'stop'?"},
		},
		{
			name: "fragment in a fragment",
			src:  strings.Replace(state("    prompt: Hi {{> stop}}\n"), "stop: Reply STOP to opt out.", "stop: \"{{> other}} Reply\"", 1),
			want: []string{"5:9: fragment 'stop' includes fragment 'other': fragments cannot include other fragments"},
		},
		{
			name: "malformed placeholders",
			src:  state("    prompt: \"{{Name}} {{> }} {{ x\"\n"),
			want: []string{
				"12:13: invalid placeholder '{{Name}}' in prompt of state 'a': write {{name}} for a variable or {{> name}} for a fragment, with a lowercase name",
				"12:13: invalid placeholder '{{> }}' in prompt of state 'a': write {{name}} for a variable or {{> name}} for a fragment, with a lowercase name",
				"12:13: unclosed placeholder '{{ x' in prompt of state 'a': end it with '}}'",
			},
		},
		{
			name: "variables only in texts",
			src:  state("    prompt:\n      text: Hi\n      buttons: [{id: ok, title: \"{{name}}\"}]\n    on: [{button: ok, end: true}]\n"),
			want: []string{"14:33: title of button 1 of state 'a' holds '{{': variables and fragments only work in prompt texts"},
		},
		{
			name: "buttons and list",
			src:  state("    prompt:\n      text: Hi\n      buttons: [{id: ok, title: OK}]\n      list: {button: Go, rows: [{id: r, title: R}]}\n"),
			want: []string{"15:7: prompt of state 'a' has both buttons and a list: a WhatsApp message has one or the other"},
		},
		{
			name: "button names a row",
			src:  state("    prompt:\n      text: Hi\n      list: {button: Go, rows: [{id: row1, title: R}]}\n    on: [{button: row2, end: true}]\n"),
			want: []string{"15:19: unknown button 'row2' in transition 1 of state 'a'; did you mean 'row1'?"},
		},
		{
			name: "variant ids differ",
			src: state(`    prompt:
      text: Hi
      buttons: [{id: yes, title: "Yes"}, {id: no, title: "No"}]
      variants:
        es:
          text: Hola
          buttons: [{id: si, title: Sí}, {id: no, title: "No"}]
    on: [{button: yes, end: true}, {button: no, end: true}]
`),
			want: []string{
				"18:11: variant 'es' of state 'a' leaves out button 'yes' of the prompt: a variant has the same buttons as the prompt, reworded",
				"18:21: unknown button 'si' in variant 'es' of state 'a'; the prompt's buttons are 'yes', 'no'",
			},
		},
		{
			name: "variant language",
			src:  state("    prompt:\n      text: Hi\n      variants: {en: Hello, ES: Hola, es: [x]}\n"),
			want: []string{
				"14:18: variant 'en' of state 'a' is in the flow's own language: the prompt's text is its 'en' wording",
				"14:29: invalid language 'ES' in variants of prompt of state 'a': use a 2-3 letter lowercase code such as 'es'",
				"14:43: variant 'es' of state 'a' must be text, or a mapping with text and buttons or a list; found a list",
			},
		},
		{
			name: "invalid regex",
			src:  state("    prompt: Hi\n    on: [{regex: 'a(b', end: true}]\n"),
			want: []string{"13:18: invalid regex in transition 1 of state 'a': error parsing regexp: missing closing ): `a(b`"},
		},
		{
			name: "timers",
			src: state(`    prompt: Hi
    on:
      - after: 0s
        end: true
      - after: 2 hours
        end: true
      - before_window_closes: 24h
        end: true
      - after: 1h
        keywords: [x]
        end: true
`),
			want: []string{
				"14:16: after in transition 1 of state 'a' must be above 0; found '0s'",
				"16:9: more than one after in state 'a' (first in transition 1)",
				"16:16: after in transition 2 of state 'a' must be a duration such as 30m or 2h; found '2 hours'",
				"18:31: before_window_closes in transition 3 of state 'a' must be less than 24h, the length of the customer service window; found '24h'",
				"20:9: after in transition 4 of state 'a' cannot be combined with button, keywords, regex or else: it fires on time, not on a message",
				"20:9: more than one after in state 'a' (first in transition 1)",
			},
		},
		{
			name: "else last among message transitions",
			src:  state("    prompt: Hi\n    on:\n      - else: true\n        end: true\n      - after: 1h\n        end: true\n      - regex: x\n        end: true\n"),
			want: []string{"14:9: else in transition 1 of state 'a' is not the last transition: the transitions after it can never match"},
		},
		{
			name: "consent and capture need a message",
			src:  state("    prompt: Hi\n    on:\n      - after: 1h\n        opt_in: news\n        capture: x\n        end: true\n"),
			want: []string{
				"15:9: opt_in in transition 1 of state 'a' cannot fire on a timer: consent needs the customer's own answer",
				"16:9: capture in transition 1 of state 'a' has nothing to capture: a timer fires without a message",
			},
		},
		{
			name: "handoff ends the conversation",
			src:  state("    prompt: Hi\n    on:\n      - else: true\n        handoff: sales team\n        goto: a\n"),
			want: []string{
				"15:9: handoff in transition 1 of state 'a' cannot be combined with goto or end: the conversation ends in the handoff",
				"15:18: invalid handoff queue 'sales team' in transition 1 of state 'a': use letters, digits, '_', '-' and '.'",
			},
		},
		{
			name: "goto another flow",
			src:  state("    prompt: Hi\n    on:\n      - keywords: [x]\n        goto: other/\n      - else: true\n        goto: a/b/c\n"),
			want: []string{
				"15:15: invalid goto 'other/' in transition 1 of state 'a': write a state of this flow, or flow/state for a state of another flow",
				"17:15: invalid goto 'a/b/c' in transition 2 of state 'a': write a state of this flow, or flow/state for a state of another flow",
			},
		},
		{
			name: "set and capture",
			src:  state("    prompt: Hi\n    on:\n      - keywords: [x]\n        set: {business: x, Bad: y, language: de, v: \"{{> stop}}\"}\n        end: true\n      - else: true\n        capture: customer\n        end: true\n"),
			want: []string{
				"15:15: variable 'business' is built in and cannot be set",
				"15:28: invalid variable name 'Bad' in set of transition 1 of state 'a': use lowercase letters, digits and '_', starting with a letter",
				"15:46: unknown language 'de' in set of transition 1 of state 'a'; the flow's prompts are in 'en'",
				"15:53: set of transition 1 of state 'a' includes fragment 'stop': fragments can only be included in prompt texts",
				"18:18: variable 'customer' is built in and cannot be captured",
			},
		},
		{
			name: "topic extras",
			src:  strings.Replace(base, "    description: news\n", "    description: news\n    aliases: [\"\"]\n    frequency_cap: 0\n    granted_by: [webb, sms, web, web]\n", 1) + "  a:\n    prompt: Hi\n",
			want: []string{
				"10:15: item 1 of aliases of topic 'news' is empty",
				"11:20: frequency_cap of topic 'news' must be a whole number above 0; found '0'",
				"12:18: unknown source 'webb' in granted_by of topic 'news'; did you mean 'web'?",
				"12:24: unknown source 'sms' in granted_by of topic 'news'; allowed are web, signup, sms_campaign, email_campaign, live_chat, api, provider",
				"12:34: source 'web' is listed twice in granted_by of topic 'news'",
			},
		},
		{
			name: "vars",
			src:  strings.Replace(base, "  name: friend\n", "  name: friend\n  language: en\n  Name: x\n  list: [a]\n", 1) + "  a:\n    prompt: Hi\n",
			want: []string{
				"4:3: variable 'language' is built in: choose another name (the built-in variables are 'business', 'customer', 'language')",
				"5:3: invalid variable name 'Name': use lowercase letters, digits and '_', starting with a letter",
				"6:9: default of variable 'list' must be a string; found a list",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Load("", []byte(tt.src))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Load failed:\n%v", err)
				}
				checkInvariants(t, f)
				return
			}
			got := problems(t, tt.src)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestFull loads testdata/full.yaml, a flow with every feature of the
// language.
func TestFull(t *testing.T) {
	f, err := LoadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, f)
	if !slices.Equal(f.Languages, []string{"en", "es", "fr"}) {
		t.Errorf("Languages = %q", f.Languages)
	}
	ask := f.States["ask"].Prompt
	if !strings.HasSuffix(ask.Text, "WhatsApp? Reply STOP at any time to opt out.") ||
		!strings.HasSuffix(ask.ForLanguage("fr").Text, "Répondez STOP à tout moment pour vous désabonner.") {
		t.Errorf("fragments not expanded: %q", ask.Text)
	}
	if got := buttonIDs(ask.Variants["fr"].Buttons); !slices.Equal(got, []string{"no", "yes"}) {
		t.Errorf("fr buttons = %q, want the variant's own order", got)
	}
	if f.HelpFor("fr") != "Café Olé sur WhatsApp. Répondez STOP pour vous désabonner, START pour revenir." ||
		f.Messages.For("es").Stopped != "Te has dado de baja de {business} en WhatsApp. Responde START para volver." ||
		f.Messages.For("fr").Stopped != f.Messages.Stopped || f.Messages.For("es").Restarted != f.Messages.Restarted {
		t.Errorf("help %q, messages %+v", f.HelpVariants, f.Messages)
	}
	bookings, _ := f.Topic("bookings")
	if bookings.DescriptionFor("es") != "recordatorios de tus reservas" || bookings.DescriptionFor("de") != "reminders of your table bookings" {
		t.Errorf("bookings = %+v", bookings)
	}
	offers, _ := f.Topic("offers")
	if offers.FrequencyCap != 1 || !slices.Equal(offers.GrantedBy, []string{"web", "signup"}) || len(offers.Aliases) != 2 {
		t.Errorf("offers = %+v", offers)
	}
	menu := f.States["menu"]
	if menu.Prompt.List == nil || len(menu.Prompt.List.Rows) != 4 || menu.On[0].GotoFlow != "bookings" || menu.On[2].Handoff != "front-desk" ||
		menu.On[2].HandoffTimeout != 45*time.Minute || menu.On[2].HandoffResume != "menu" {
		t.Errorf("menu = %+v", menu)
	}
	if f.HandoffTimeout != 3*time.Hour || f.Messages.For("es").Handoff != "Un barista de {business} te contestará aquí." {
		t.Errorf("handoff timeout %v, messages %+v", f.HandoffTimeout, f.Messages)
	}
}
