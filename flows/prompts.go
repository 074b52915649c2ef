package flows

import (
	"fmt"
	"slices"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

var (
	promptKeys  = []string{"text", "buttons", "list", "variants", "experiment"}
	variantKeys = []string{"text", "buttons", "list"}
	buttonKeys  = []string{"id", "title"}
	listKeys    = []string{"button", "rows"}
	rowKeys     = []string{"id", "title", "description"}
)

// WhatsApp's limits on what a prompt can be sent as.
const (
	maxButtons         = 3    // quick-reply buttons per message
	maxButtonTitle     = 20   // characters of a button title
	maxListButton      = 20   // characters of the label of a list's button
	maxRows            = 10   // rows of a list message
	maxRowTitle        = 24   // characters of a row title
	maxRowDescription  = 72   // characters of a row description
	maxTextBody        = 4096 // characters of a text message
	maxInteractiveBody = 1024 // characters of the body of a message with buttons or a list
)

// prompt decodes a state's prompt: plain text, or text with buttons or a
// list, and its variants in other languages.
func (l *loader) prompt(n *yaml.Node, where string) Prompt {
	var p Prompt
	n = l.Resolve(n)
	switch n.Kind {
	case yaml.ScalarNode:
		p.Text = l.promptText(n, "prompt text of "+where, "prompt of "+where, "")
		return p
	case yaml.MappingNode:
	default:
		l.WrongKind(n, "prompt of "+where, "text, or a mapping with text and buttons or a list")
		return p
	}
	fs := l.Fields(n, "in prompt of "+where, promptKeys)
	fb, hasButtons := fs.Get("buttons")
	if hasButtons {
		p.Buttons = l.buttons(fb.Value, where)
	}
	if fd, ok := fs.Get("list"); ok {
		if hasButtons {
			l.Addf(fd.Key, "prompt of %s has both buttons and a list: a WhatsApp message has one or the other", where)
		}
		p.List = l.list(fd.Value, "list of "+where)
	}
	if fd, ok := fs.Get("text"); ok {
		p.Text = l.promptText(fd.Value, "prompt text of "+where, "prompt of "+where, attachment(p.Buttons, p.List))
	} else if fs.Missing("text") {
		l.Addf(n, "missing text in prompt of %s", where)
	}
	if fd, ok := fs.Get("variants"); ok {
		p.Variants = l.variants(fd.Value, where, &p)
	}
	if fd, ok := fs.Get("experiment"); ok {
		p.Experiment = l.experiment(fd.Value, where, &p)
		p.ExperimentPos = posOf(fd.Key)
	}
	return p
}

// attachment names what a message's text comes with, for the limit on its
// length: "buttons", "a list" or "" for plain text.
func attachment(buttons []Button, list *List) string {
	switch {
	case list != nil:
		return "a list"
	case len(buttons) > 0:
		return "buttons"
	}
	return ""
}

// promptText decodes the text of a prompt or variant: it must not be
// blank, has its fragments expanded and its variables checked, and must
// fit in a WhatsApp message. subject names the text ("prompt text of state
// 'x'"), in where it is ("prompt of state 'x'").
func (l *loader) promptText(n *yaml.Node, subject, in, attached string) string {
	s, ok := l.RequiredText(n, subject)
	if !ok {
		return ""
	}
	n = l.Resolve(n)
	s = l.richText(s, n, in, textPrompt)
	length := utf8.RuneCountInString(s)
	switch {
	case attached != "" && length > maxInteractiveBody:
		l.Addf(n, "%s is %d characters long; WhatsApp allows at most %d in a message with %s", subject, length, maxInteractiveBody, attached)
	case length > maxTextBody:
		l.Addf(n, "%s is %d characters long; WhatsApp allows at most %d", subject, length, maxTextBody)
	}
	return s
}

// buttons decodes a prompt's quick-reply buttons.
func (l *loader) buttons(n *yaml.Node, where string) []Button {
	items := l.sequence(n, "buttons of "+where, "a list of buttons")
	var out []Button
	first := make(map[string]int) // id -> line
	for i, item := range items {
		if i == maxButtons {
			l.Addf(l.Resolve(item), "%s has %d buttons; WhatsApp allows at most %d", where, len(items), maxButtons)
		}
		b, ok := l.button(fmt.Sprintf("button %d of %s", i+1, where), item)
		if !ok {
			continue
		}
		if line, dup := first[b.ID]; dup {
			l.AddAt(b.Pos.Line, b.Pos.Col, "duplicate button id %s in %s (first at line %d)", quote(b.ID), where, line)
			continue
		}
		first[b.ID] = b.Pos.Line
		out = append(out, b)
	}
	return out
}

// button decodes one button; ok is false if it has no usable id.
func (l *loader) button(where string, item *yaml.Node) (b Button, ok bool) {
	n, ok := l.mapping(item, where, "a mapping with id and title")
	if !ok {
		if isNull(n) {
			l.Addf(n, "%s is empty: give it an id and a title", where)
		}
		return b, false
	}
	b.Pos = posOf(n)
	fs := l.Fields(n, "in "+where, buttonKeys)
	b.ID = l.choiceID(n, fs, "button", where)
	b.Title = l.limitedText(n, fs, "title", where, maxButtonTitle, true)
	return b, b.ID != ""
}

// choiceID decodes the id of a button or row.
func (l *loader) choiceID(n *yaml.Node, fs fieldMap, noun, where string) string {
	fd, ok := fs.Get("id")
	if !ok {
		if fs.Missing("id") {
			l.Addf(n, "missing id in %s", where)
		}
		return ""
	}
	id, ok := l.RequiredText(fd.Value, "id of "+where)
	if !ok {
		return ""
	}
	if !nameRe.MatchString(id) {
		l.Addf(l.Resolve(fd.Value), "invalid %s id %s in %s: use letters, digits, '_' and '-', starting with a letter", noun, quote(id), where)
	}
	return id
}

// limitedText decodes a title, label or description: sent as written, of
// at most max characters.
func (l *loader) limitedText(n *yaml.Node, fs fieldMap, key, where string, max int, required bool) string {
	fd, ok := fs.Get(key)
	if !ok {
		if required && fs.Missing(key) {
			l.Addf(n, "missing %s in %s", key, where)
		}
		return ""
	}
	subject := key + " of " + where
	var s string
	if required {
		s, ok = l.RequiredText(fd.Value, subject)
	} else {
		s, ok = l.Text(fd.Value, subject)
	}
	if !ok || s == "" {
		return ""
	}
	v := l.Resolve(fd.Value)
	l.plainText(s, v, subject)
	if length := utf8.RuneCountInString(s); length > max {
		l.Addf(v, "%s is %d characters long; WhatsApp allows at most %d", subject, length, max)
	}
	return s
}

// list decodes a list message: the label of its button and its rows. where
// is "list of state 'x'".
func (l *loader) list(n *yaml.Node, where string) *List {
	n, ok := l.mapping(n, where, "a mapping with button and rows")
	if !ok {
		if isNull(n) {
			l.Addf(n, "%s is empty: give it a button label and rows", where)
		}
		return nil
	}
	ls := &List{Pos: posOf(n)}
	fs := l.Fields(n, "in "+where, listKeys)
	ls.Button = l.limitedText(n, fs, "button", where, maxListButton, true)
	if fd, ok := fs.Get("rows"); ok {
		ls.Rows = l.rows(fd.Value, where)
	} else if fs.Missing("rows") {
		l.Addf(n, "missing rows in %s", where)
	}
	return ls
}

// rows decodes the rows of a list.
func (l *loader) rows(n *yaml.Node, where string) []Row {
	items := l.sequence(n, "rows of "+where, "a list of rows")
	if v := l.Resolve(n); isEmptyList(v) {
		l.Addf(v, "rows of %s is empty: a list needs at least one row", where)
	}
	var out []Row
	first := make(map[string]int) // id -> line
	for i, item := range items {
		if i == maxRows {
			l.Addf(l.Resolve(item), "%s has %d rows; WhatsApp allows at most %d", where, len(items), maxRows)
		}
		r, ok := l.row(fmt.Sprintf("row %d of %s", i+1, where), item)
		if !ok {
			continue
		}
		if line, dup := first[r.ID]; dup {
			l.AddAt(r.Pos.Line, r.Pos.Col, "duplicate row id %s in %s (first at line %d)", quote(r.ID), where, line)
			continue
		}
		first[r.ID] = r.Pos.Line
		out = append(out, r)
	}
	return out
}

// row decodes one row of a list; ok is false if it has no usable id.
func (l *loader) row(where string, item *yaml.Node) (r Row, ok bool) {
	n, ok := l.mapping(item, where, "a mapping with id, title and description")
	if !ok {
		if isNull(n) {
			l.Addf(n, "%s is empty: give it an id and a title", where)
		}
		return r, false
	}
	r.Pos = posOf(n)
	fs := l.Fields(n, "in "+where, rowKeys)
	r.ID = l.choiceID(n, fs, "row", where)
	r.Title = l.limitedText(n, fs, "title", where, maxRowTitle, true)
	r.Description = l.limitedText(n, fs, "description", where, maxRowDescription, false)
	return r, r.ID != ""
}

// variants decodes a prompt's wording in other languages.
func (l *loader) variants(n *yaml.Node, where string, p *Prompt) map[string]PromptVariant {
	subject := "variants of prompt of " + where
	n, ok := l.mapping(n, subject, "a mapping of language codes to prompts")
	if !ok {
		return nil
	}
	var out map[string]PromptVariant
	for _, e := range l.entries(n, "in "+subject, "language") {
		lang := e.Key.Value
		switch {
		case !languageRe.MatchString(lang):
			l.Addf(e.Key, "invalid language %s in %s: use a 2-3 letter lowercase code such as 'es'", quote(lang), subject)
			continue
		case lang == l.language:
			l.Addf(e.Key, "variant %s of %s is in the flow's own language: the prompt's text is its %s wording", quote(lang), where, quote(lang))
			continue
		}
		v, ok := l.variant(e.Value, "variant "+quote(lang)+" of "+where, p)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]PromptVariant)
		}
		out[lang] = v
	}
	return out
}

// variant decodes one variant: text, or text with the prompt's buttons or
// list reworded. where is "variant 'es' of state 'x'".
func (l *loader) variant(n *yaml.Node, where string, p *Prompt) (PromptVariant, bool) {
	var v PromptVariant
	n = l.Resolve(n)
	switch n.Kind {
	case yaml.ScalarNode:
		v.Text = l.promptText(n, "text of "+where, where, attachment(p.Buttons, p.List))
		return v, v.Text != ""
	case yaml.MappingNode:
	default:
		l.WrongKind(n, where, "text, or a mapping with text and buttons or a list")
		return v, false
	}
	fs := l.Fields(n, "in "+where, variantKeys)
	if fd, ok := fs.Get("buttons"); ok {
		v.Buttons = l.buttons(fd.Value, where)
		switch {
		case p.List != nil:
			l.Addf(fd.Key, "%s has buttons, but the prompt has a list: reword the list instead", where)
		case len(p.Buttons) == 0:
			l.Addf(fd.Key, "%s has buttons, but the prompt has none", where)
		case len(v.Buttons) > 0:
			ids := make([]string, len(v.Buttons))
			pos := make([]Pos, len(v.Buttons))
			for i, b := range v.Buttons {
				ids[i], pos[i] = b.ID, b.Pos
			}
			want := make([]string, len(p.Buttons))
			for i, b := range p.Buttons {
				want[i] = b.ID
			}
			l.sameIDs(fd.Key, where, "button", ids, pos, want)
		}
	}
	if fd, ok := fs.Get("list"); ok {
		lwhere := "list of " + where
		v.List = l.list(fd.Value, lwhere)
		switch {
		case len(p.Buttons) > 0:
			l.Addf(fd.Key, "%s has a list, but the prompt has buttons: reword the buttons instead", where)
		case p.List == nil:
			l.Addf(fd.Key, "%s has a list, but the prompt has none", where)
		case v.List != nil && len(v.List.Rows) > 0:
			ids := make([]string, len(v.List.Rows))
			pos := make([]Pos, len(v.List.Rows))
			for i, r := range v.List.Rows {
				ids[i], pos[i] = r.ID, r.Pos
			}
			want := make([]string, len(p.List.Rows))
			for i, r := range p.List.Rows {
				want[i] = r.ID
			}
			l.sameIDs(fd.Key, lwhere, "row", ids, pos, want)
		}
	}
	attached := attachment(v.Buttons, v.List)
	if attached == "" {
		attached = attachment(p.Buttons, p.List)
	}
	if fd, ok := fs.Get("text"); ok {
		v.Text = l.promptText(fd.Value, "text of "+where, where, attached)
	} else if fs.Missing("text") {
		l.Addf(n, "missing text in %s", where)
	}
	return v, true
}

// sameIDs reports the ids of a variant's buttons or rows that are not the
// prompt's (want), and the prompt's that the variant leaves out: a variant
// rewords the same choices, so that transitions match in every language.
func (l *loader) sameIDs(key *yaml.Node, where, noun string, ids []string, pos []Pos, want []string) {
	for i, id := range ids {
		if slices.Contains(want, id) {
			continue
		}
		hint := didYouMean(id, want)
		if hint == "" {
			hint = fmt.Sprintf("; the prompt's %ss are %s", noun, list(want))
		}
		l.AddAt(pos[i].Line, pos[i].Col, "unknown %s %s in %s%s", noun, quote(id), where, hint)
	}
	for _, id := range want {
		if !slices.Contains(ids, id) {
			l.Addf(key, "%s leaves out %s %s of the prompt: a variant has the same %ss as the prompt, reworded", where, noun, quote(id), noun)
		}
	}
}
