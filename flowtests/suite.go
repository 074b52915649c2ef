package flowtests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/yamlnode"
)

// DefaultCustomer is the customer a test talks as when it names none.
const DefaultCustomer bot.CustomerID = "+14155550100"

// StepKind says what a step does.
type StepKind string

// The step kinds, in the order the docs give them.
const (
	StepUser         StepKind = "user"          // the customer writes Text
	StepButton       StepKind = "button"        // the customer taps Button
	StepBot          StepKind = "bot"           // the next unchecked reply matches Match
	StepNoReply      StepKind = "no_reply"      // the last input got no reply
	StepState        StepKind = "state"         // the conversation is in State ("" when ended)
	StepConsent      StepKind = "consent"       // the consent of each topic is as Consent says
	StepWait         StepKind = "wait"          // the clock moves Wait forward
	StepSendTemplate StepKind = "send_template" // the business sends Template; Expect says the outcome
	StepSendText     StepKind = "send_text"     // the business sends Text; Expect says the outcome
	StepHandoff      StepKind = "handoff"       // the latest input started, forwarded to or ended a handoff as Handoff says
	StepRelease      StepKind = "release"       // an agent hands the conversation back
)

// stepKinds lists every kind, in documentation order.
var stepKinds = []string{
	string(StepUser), string(StepButton), string(StepBot), string(StepNoReply), string(StepState),
	string(StepConsent), string(StepWait), string(StepSendTemplate), string(StepSendText),
	string(StepHandoff), string(StepRelease),
}

var (
	fileKeys         = []string{"flow", "tests"}
	testKeys         = []string{"name", "customer", "language", "vars", "strict", "numbered", "steps"}
	stepKeys         = append(slices.Clone(stepKinds), "expect")
	sendTemplateKeys = []string{"template", "topic"}
	expectKeys       = []string{"refused"}
	consentStatuses  = []string{string(bot.OptedIn), string(bot.OptedOut), "none"}
	refusalReasons   = []string{string(bot.ReasonOptedOut), string(bot.ReasonProviderBlocked), string(bot.ReasonHeld),
		string(bot.ReasonNoConsent), string(bot.ReasonWindowClosed), string(bot.ReasonFrequencyCap)}
)

// Suite is a parsed flowtest file: the flow it tests and its tests.
type Suite struct {
	File     string    // the name the file was parsed under; prefixes every problem
	FlowPath string    // `flow:` as written
	FlowPos  flows.Pos // where `flow:` is
	Tests    []Test

	// Flow and FlowSource are set by Load: the flow at FlowPath, resolved
	// against the flowtest file's directory.
	Flow       *flows.Flow
	FlowSource []byte
}

// Test is one conversation, run on a fresh engine.
type Test struct {
	Name     string
	Customer bot.CustomerID
	// Vars are the customer's variables before the test starts ("language"
	// among them, from the test's language:), as if set earlier.
	Vars map[string]string
	// Strict requires every reply of the bot to be matched by a bot step
	// before the next input and by the end of the test.
	Strict bool
	Steps  []Step
	Pos    flows.Pos
	// Numbered: the customer writes to a channel that shows buttons and
	// list rows as numbered lines (NumberedSender), where a bare number
	// picks one.
	Numbered bool
}

// Step is one line of a test; Kind says which fields are set.
type Step struct {
	Kind StepKind
	Pos  flows.Pos

	Text     string          // user, send_text
	Button   string          // button
	Match    Matcher         // bot
	State    flows.StateName // state; "" for an ended conversation
	Consent  []ConsentCheck  // consent, in file order
	Wait     time.Duration   // wait
	Template string          // send_template
	Topic    flows.Topic     // send_template, optional
	// Refused is the reason a send step expects the guard to give; ""
	// expects the message to be sent.
	Refused bot.Reason
	Handoff *HandoffCheck // handoff
	Release *ReleaseStep  // release

	valuePos flows.Pos // where the kind's value is, for problems about it
}

// ConsentCheck is one topic of a consent step. Status "" means no consent
// event has been recorded for the topic.
type ConsentCheck struct {
	Topic  flows.Topic
	Status bot.ConsentStatus
	Pos    flows.Pos
}

// Matcher matches a reply's text: a /regular expression/ (RE2) or a
// case-insensitive substring.
type Matcher struct {
	Source string // as written
	re     *regexp.Regexp
}

// Match reports whether text matches.
func (m Matcher) Match(text string) bool {
	if m.re != nil {
		return m.re.MatchString(text)
	}
	return strings.Contains(strings.ToLower(text), strings.ToLower(m.Source))
}

// String describes the matcher for a report.
func (m Matcher) String() string {
	if m.re != nil {
		return "matching " + m.Source
	}
	return "containing " + fmt.Sprintf("%q", m.Source)
}

// Load reads the flowtest file at path, checks it and loads the flow it
// names (relative to the file's directory unless absolute), checking every
// state, topic, template and button a step names against that flow. On
// failure the error is a *LoadError holding every problem found.
func Load(path string) (*Suite, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &LoadError{Problems: []flows.Problem{{File: path, Msg: fmt.Sprintf("cannot read flowtest file: %v", unwrapPath(err))}}}
	}
	s, perr := Parse(path, src)
	var problems []flows.Problem
	if perr != nil {
		problems = perr.(*LoadError).Problems
	}
	if s == nil || s.FlowPath == "" {
		return nil, perr
	}
	flowFile := s.FlowPath
	if !filepath.IsAbs(flowFile) {
		flowFile = filepath.Join(filepath.Dir(path), flowFile)
	}
	own := func(format string, args ...any) {
		problems = append(problems, flows.Problem{File: path, Pos: s.FlowPos, Msg: fmt.Sprintf(format, args...)})
	}
	var flowProblems []flows.Problem
	flowSrc, err := os.ReadFile(flowFile)
	switch {
	case err != nil:
		own("cannot read flow %s: %v", flowFile, unwrapPath(err))
	default:
		flow, err := flows.Load(flowFile, flowSrc)
		if err != nil {
			if le, ok := err.(*flows.LoadError); ok {
				own("flow %s does not load (its problems follow)", flowFile)
				flowProblems = le.Problems
			} else {
				own("flow %s does not load: %v", flowFile, err)
			}
			break
		}
		s.Flow, s.FlowSource = flow, flowSrc
		problems = append(problems, s.checkAgainst(flow)...)
	}
	if len(problems) > 0 {
		return nil, &LoadError{Problems: append(sortProblems(problems), flowProblems...)}
	}
	return s, nil
}

// unwrapPath drops the path from an *os.PathError, which the message
// already names.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Parse checks the flowtest in src without touching the file system (the
// flow is not loaded: see Load). file names the source in problems. On
// failure the error is a *LoadError; the Suite returned with it holds what
// could be read, for Load to check against the flow.
func Parse(file string, src []byte) (*Suite, error) {
	p := &parser{file: file}
	p.Doc = yamlnode.Doc{MaxVisits: 100_000 + 4*len(src), Quote: quote, Closest: closest}
	root := p.Parse(src, "flowtest file")
	if root == nil {
		return nil, p.err()
	}
	s := &Suite{File: file}
	p.suite(root, s)
	if err := p.err(); err != nil {
		if p.Exploded != nil {
			return nil, err
		}
		return s, err
	}
	return s, nil
}

func (p *parser) suite(root *yaml.Node, s *Suite) {
	root = p.Resolve(root)
	if root.Kind != yaml.MappingNode {
		p.WrongKind(root, "a flowtest file", "a mapping with flow and tests")
		return
	}
	fs := p.Fields(root, "at the top level", fileKeys)
	if fd, ok := fs.Get("flow"); ok {
		if path, ok := p.RequiredText(fd.Value, "flow"); ok {
			s.FlowPath, s.FlowPos = path, posOf(p.Resolve(fd.Value))
		}
	} else if fs.Missing("flow") {
		p.Addf(root, "missing flow (add flow: with the path of the flow file to test, relative to this file)")
	}
	fd, ok := fs.Get("tests")
	if !ok {
		if fs.Missing("tests") {
			p.Addf(root, "missing tests (add tests: with a list of tests)")
		}
		return
	}
	items, ok := p.list(fd.Value, "tests", "a list of tests")
	if !ok {
		return
	}
	if len(items) == 0 {
		p.Addf(p.Resolve(fd.Value), "tests is empty: add at least one test")
	}
	names := map[string]int{}
	for i, item := range items {
		t, ok := p.test(item, i+1)
		if !ok {
			continue
		}
		if t.Name != "" {
			if first, dup := names[t.Name]; dup {
				p.AddAt(t.Pos.Line, t.Pos.Col, "duplicate test name %s (first at line %d)", quote(t.Name), first)
			} else {
				names[t.Name] = t.Pos.Line
			}
		}
		s.Tests = append(s.Tests, t)
	}
}

// list returns the items of a list. Nothing is an empty list.
func (p *parser) list(n *yaml.Node, subject, want string) ([]*yaml.Node, bool) {
	n = p.Resolve(n)
	switch {
	case n.Kind == yaml.SequenceNode:
		return n.Content, true
	case isNull(n):
		return nil, true
	}
	p.WrongKind(n, subject, want)
	return nil, false
}

func (p *parser) test(n *yaml.Node, index int) (Test, bool) {
	n = p.Resolve(n)
	t := Test{Customer: DefaultCustomer, Pos: posOf(n)}
	if n.Kind != yaml.MappingNode {
		p.WrongKind(n, fmt.Sprintf("test %d", index), "a mapping with name and steps")
		return t, false
	}
	where := fmt.Sprintf("test %d", index)
	fs := p.Fields(n, "in "+where, testKeys)
	if fd, ok := fs.Get("name"); ok {
		if name, ok := p.RequiredText(fd.Value, "name of "+where); ok {
			t.Name = name
			where = "test " + quote(name)
		}
	} else if fs.Missing("name") {
		p.Addf(n, "missing name in %s (add name: saying what the test shows)", where)
	}
	if fd, ok := fs.Get("customer"); ok {
		if s, ok := p.RequiredText(fd.Value, "customer of "+where); ok {
			c, err := bot.ParseCustomerID(s)
			if err != nil {
				p.Addf(p.Resolve(fd.Value), "customer of %s: %v", where, err)
			} else {
				t.Customer = c
			}
		}
	}
	if fd, ok := fs.Get("vars"); ok {
		v := p.Resolve(fd.Value)
		if v.Kind != yaml.MappingNode {
			p.WrongKind(v, "vars of "+where, "a mapping of variable names to values")
		} else {
			for i := 0; i+1 < len(v.Content); i += 2 {
				k, val := v.Content[i], p.Resolve(v.Content[i+1])
				if val.Kind != yaml.ScalarNode {
					p.WrongKind(val, "variable "+quote(k.Value)+" of "+where, "a text")
					continue
				}
				if t.Vars == nil {
					t.Vars = map[string]string{}
				}
				t.Vars[k.Value] = val.Value
			}
		}
	}
	if fd, ok := fs.Get("language"); ok {
		if lang, ok := p.RequiredText(fd.Value, "language of "+where); ok {
			if t.Vars == nil {
				t.Vars = map[string]string{}
			}
			t.Vars["language"] = lang
		}
	}
	if fd, ok := fs.Get("strict"); ok {
		v := p.Resolve(fd.Value)
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
			t.Strict = strings.EqualFold(v.Value, "true")
		} else {
			p.WrongKind(v, "strict of "+where, "true or false")
		}
	}
	if fd, ok := fs.Get("numbered"); ok {
		v := p.Resolve(fd.Value)
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
			t.Numbered = strings.EqualFold(v.Value, "true")
		} else {
			p.WrongKind(v, "numbered of "+where, "true or false")
		}
	}
	fd, ok := fs.Get("steps")
	if !ok {
		if fs.Missing("steps") {
			p.Addf(n, "missing steps in %s (add steps: with a list of steps)", where)
		}
		return t, true
	}
	items, ok := p.list(fd.Value, "steps of "+where, "a list of steps")
	if !ok {
		return t, true
	}
	if len(items) == 0 {
		p.Addf(p.Resolve(fd.Value), "steps of %s is empty: add at least one step", where)
	}
	input := false
	for i, item := range items {
		st, ok := p.step(item, fmt.Sprintf("step %d of %s", i+1, where))
		if !ok {
			continue
		}
		switch st.Kind {
		case StepUser, StepButton, StepRelease:
			input = true
		case StepBot, StepNoReply:
			if !input {
				p.AddAt(st.Pos.Line, st.Pos.Col, "step %d of %s checks a reply before any user or button step", i+1, where)
			}
		case StepHandoff:
			if !input {
				p.AddAt(st.Pos.Line, st.Pos.Col, "step %d of %s checks a handoff before any user or button step", i+1, where)
			}
		}
		t.Steps = append(t.Steps, st)
	}
	return t, true
}

// step decodes one step; ok is false when it has no usable kind.
func (p *parser) step(n *yaml.Node, where string) (Step, bool) {
	n = p.Resolve(n)
	st := Step{Pos: posOf(n)}
	if n.Kind != yaml.MappingNode {
		p.WrongKind(n, where, "a mapping such as {user: Hi}")
		return st, false
	}
	var kind, expect *field
	unknown := false
	seen := map[string]*yaml.Node{}
	for _, f := range p.Pairs(n, "in "+where) {
		name := f.Key.Value
		if first, dup := seen[name]; dup {
			p.Addf(f.Key, "duplicate key %s in %s (first at line %d)", quote(name), where, first.Line)
			continue
		}
		seen[name] = f.Key
		switch {
		case name == "expect":
			expect = &f
		case slices.Contains(stepKinds, name):
			if kind != nil {
				p.Addf(f.Key, "%s has two kinds, %s and %s: one step does one thing, so split it in two",
					where, quote(kind.Key.Value), quote(name))
				continue
			}
			kind = &f
		default:
			p.UnknownKey(f.Key, "in "+where, stepKeys, map[string]bool{})
			unknown = true
		}
	}
	if kind == nil {
		if !unknown {
			p.Addf(n, "%s has no kind: give it one of %s", where, strings.Join(stepKinds, ", "))
		}
		return st, false
	}
	st.Kind = StepKind(kind.Key.Value)
	st.valuePos = posOf(p.Resolve(kind.Value))
	subject := st.Kind.String() + " in " + where
	v := kind.Value
	ok := true
	switch st.Kind {
	case StepUser:
		if _, ok = p.RequiredText(v, subject); ok {
			st.Text = p.rawText(v)
		}
	case StepButton:
		st.Button, ok = p.RequiredText(v, subject)
	case StepBot:
		st.Match, ok = p.matcher(v, subject)
	case StepNoReply:
		r := p.Resolve(v)
		if !(r.Kind == yaml.ScalarNode && r.ShortTag() == "!!bool" && strings.EqualFold(r.Value, "true")) {
			p.Addf(r, "%s must be true (leave the step out otherwise); found %s", subject, p.Describe(r))
			ok = false
		}
	case StepState:
		st.State, ok = p.stateName(v, subject)
	case StepConsent:
		st.Consent, ok = p.consent(v, subject)
	case StepWait:
		st.Wait, ok = p.duration(v, subject)
	case StepSendTemplate:
		st.Template, st.Topic, ok = p.sendTemplate(v, subject)
	case StepSendText:
		if _, ok = p.RequiredText(v, subject); ok {
			st.Text = p.rawText(v)
		}
	case StepHandoff:
		st.Handoff, ok = p.handoffCheck(v, subject)
	case StepRelease:
		st.Release, ok = p.release(v, subject)
	}
	if expect != nil {
		if st.Kind != StepSendTemplate && st.Kind != StepSendText {
			p.Addf(expect.Key, "expect in %s goes with send_template or send_text, not with %s", where, st.Kind)
		} else {
			st.Refused = p.expect(expect.Value, "expect in "+where)
		}
	}
	return st, ok
}

func (k StepKind) String() string { return string(k) }

// rawText returns a scalar as written: what the customer or business
// types is not trimmed.
func (p *parser) rawText(n *yaml.Node) string {
	return p.Resolve(n).Value
}

func (p *parser) matcher(n *yaml.Node, subject string) (Matcher, bool) {
	s, ok := p.RequiredText(n, subject)
	if !ok {
		return Matcher{}, false
	}
	m := Matcher{Source: s}
	if len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
		expr := s[1 : len(s)-1]
		if expr == "" {
			p.Addf(p.Resolve(n), "%s is an empty regular expression: it would match any reply", subject)
			return m, false
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			p.Addf(p.Resolve(n), "invalid regular expression %s in %s: %s", quote(s), subject, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			return m, false
		}
		m.re = re
	}
	return m, true
}

func (p *parser) stateName(n *yaml.Node, subject string) (flows.StateName, bool) {
	r := p.Resolve(n)
	if isNull(r) {
		p.Addf(r, "%s needs a state name, or none for an ended conversation", subject)
		return "", false
	}
	s, ok := p.Text(r, subject)
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(s)
	if s == "none" {
		s = ""
	}
	return flows.StateName(s), true
}

func (p *parser) consent(n *yaml.Node, subject string) ([]ConsentCheck, bool) {
	r := p.Resolve(n)
	if r.Kind != yaml.MappingNode {
		p.WrongKind(r, subject, "a mapping of topics to opted_in, opted_out or none")
		return nil, false
	}
	if len(r.Content) == 0 {
		p.Addf(r, "%s is empty: name at least one topic, e.g. {order_updates: opted_in}", subject)
		return nil, false
	}
	var out []ConsentCheck
	seen := map[string]int{}
	ok := true
	for _, f := range p.Pairs(r, "in "+subject) {
		topic := f.Key.Value
		if first, dup := seen[topic]; dup {
			p.Addf(f.Key, "duplicate topic %s in %s (first at line %d)", quote(topic), subject, first)
			ok = false
			continue
		}
		seen[topic] = f.Key.Line
		status, sok := p.Text(f.Value, "status of topic "+quote(topic)+" in "+subject)
		if !sok {
			ok = false
			continue
		}
		status = strings.TrimSpace(status)
		if !slices.Contains(consentStatuses, status) {
			hint := didYouMean(status, consentStatuses)
			if hint == "" {
				hint = "; allowed are " + strings.Join(consentStatuses, ", ")
			}
			p.Addf(p.Resolve(f.Value), "unknown consent status %s for topic %s in %s%s", quote(status), quote(topic), subject, hint)
			ok = false
			continue
		}
		c := ConsentCheck{Topic: flows.Topic(topic), Pos: posOf(f.Key)}
		if status != "none" {
			c.Status = bot.ConsentStatus(status)
		}
		out = append(out, c)
	}
	return out, ok && len(out) > 0
}

func (p *parser) duration(n *yaml.Node, subject string) (time.Duration, bool) {
	s, ok := p.RequiredText(n, subject)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if strings.Trim(s, "0123456789.") == "" {
			p.Addf(p.Resolve(n), "%s: %s needs a unit, such as %sh, %sm or %ss", subject, quote(s), s, s, s)
		} else {
			p.Addf(p.Resolve(n), "%s: %s is not a duration such as 25h, 90m or 30s", subject, quote(s))
		}
		return 0, false
	}
	if d <= 0 {
		p.Addf(p.Resolve(n), "%s: %s does not move the clock forward", subject, quote(s))
		return 0, false
	}
	return d, true
}

// sendTemplate reads {template: NAME, topic: TOPIC} or the shorthand NAME.
func (p *parser) sendTemplate(n *yaml.Node, subject string) (string, flows.Topic, bool) {
	r := p.Resolve(n)
	if r.Kind == yaml.ScalarNode && !isNull(r) {
		name, ok := p.RequiredText(r, "template of "+subject)
		return name, "", ok
	}
	if r.Kind != yaml.MappingNode {
		p.WrongKind(r, subject, "a mapping with template and an optional topic")
		return "", "", false
	}
	fs := p.Fields(r, "in "+subject, sendTemplateKeys)
	var name string
	ok := true
	if fd, found := fs.Get("template"); found {
		name, ok = p.RequiredText(fd.Value, "template of "+subject)
	} else {
		if fs.Missing("template") {
			p.Addf(r, "missing template in %s", subject)
		}
		ok = false
	}
	var topic string
	if fd, found := fs.Get("topic"); found {
		var tok bool
		if topic, tok = p.RequiredText(fd.Value, "topic of "+subject); !tok {
			ok = false
		}
	}
	return name, flows.Topic(topic), ok
}

// expect reads `sent` or `{refused: REASON}`.
func (p *parser) expect(n *yaml.Node, subject string) bot.Reason {
	r := p.Resolve(n)
	const want = "sent or {refused: REASON}"
	switch {
	case r.Kind == yaml.ScalarNode && r.Value == "sent" && !isNull(r):
		return ""
	case r.Kind == yaml.ScalarNode && r.Value == "refused":
		p.Addf(r, "%s: say why the message is refused, e.g. {refused: window_closed}; reasons are %s", subject, strings.Join(refusalReasons, ", "))
		return ""
	case r.Kind != yaml.MappingNode:
		p.WrongKind(r, subject, want)
		return ""
	}
	fs := p.Fields(r, "in "+subject, expectKeys)
	fd, ok := fs.Get("refused")
	if !ok {
		if fs.Missing("refused") {
			p.WrongKind(r, subject, want)
		}
		return ""
	}
	reason, ok := p.RequiredText(fd.Value, "refused in "+subject)
	if !ok {
		return ""
	}
	if !slices.Contains(refusalReasons, reason) {
		hint := didYouMean(reason, refusalReasons)
		if hint == "" {
			hint = "; reasons are " + strings.Join(refusalReasons, ", ")
		}
		p.Addf(p.Resolve(fd.Value), "unknown refusal reason %s in %s%s", quote(reason), subject, hint)
		return ""
	}
	return bot.Reason(reason)
}

// checkAgainst reports the states, topics, templates and buttons the steps
// name that the flow does not have.
func (s *Suite) checkAgainst(f *flows.Flow) []flows.Problem {
	var problems []flows.Problem
	add := func(pos flows.Pos, format string, args ...any) {
		problems = append(problems, flows.Problem{File: s.File, Pos: pos, Msg: fmt.Sprintf(format, args...)})
	}
	flowName := quote(f.Name)
	states := make([]string, len(f.StateOrder))
	for i, st := range f.StateOrder {
		states[i] = string(st)
	}
	var topics, templates, buttons []string
	for _, t := range f.Topics {
		topics = append(topics, string(t.Name))
	}
	for _, t := range f.Templates {
		templates = append(templates, t.Name)
	}
	for _, st := range f.StateOrder {
		p := f.States[st].Prompt
		for _, b := range p.Buttons {
			if !slices.Contains(buttons, b.ID) {
				buttons = append(buttons, b.ID)
			}
		}
		if p.List != nil {
			for _, r := range p.List.Rows {
				if !slices.Contains(buttons, r.ID) {
					buttons = append(buttons, r.ID) // a list row is tapped like a button
				}
			}
		}
	}
	for _, t := range s.Tests {
		for _, st := range t.Steps {
			switch st.Kind {
			case StepState:
				if st.State != "" && f.States[st.State] == nil {
					add(st.valuePos, "unknown state %s in flow %s%s", quote(string(st.State)), flowName, didYouMean(string(st.State), states))
				}
			case StepButton:
				if !slices.Contains(buttons, st.Button) {
					add(st.valuePos, "no prompt of flow %s has a button %s%s", flowName, quote(st.Button), didYouMean(st.Button, buttons))
				}
			case StepConsent:
				for _, c := range st.Consent {
					if _, ok := f.Topic(c.Topic); !ok {
						add(c.Pos, "unknown topic %s in flow %s%s", quote(string(c.Topic)), flowName, didYouMean(string(c.Topic), topics))
					}
				}
			case StepHandoff, StepRelease:
				checkHandoffNames(st, f, states, add)
			case StepSendTemplate:
				tpl, ok := f.Template(st.Template)
				switch {
				case !ok:
					add(st.valuePos, "template %s is not declared by flow %s%s", quote(st.Template), flowName, didYouMean(st.Template, templates))
				case st.Topic != "" && st.Topic != tpl.Topic:
					add(st.valuePos, "template %s belongs to topic %s, not %s", quote(st.Template), quote(string(tpl.Topic)), quote(string(st.Topic)))
				}
			}
		}
	}
	return problems
}
