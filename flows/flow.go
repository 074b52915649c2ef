package flows

import (
	"regexp"
	"slices"
	"time"
)

// StateName names a state of a flow, as written in its YAML.
type StateName string

// Topic names a kind of message a customer may opt in to, e.g. order_updates.
type Topic string

// TopicAll is the opt_out target that ends every topic of the business.
const TopicAll Topic = "all"

// Category is WhatsApp's template category of a topic.
type Category string

const (
	CategoryMarketing      Category = "marketing"
	CategoryUtility        Category = "utility"
	CategoryAuthentication Category = "authentication"
)

// Categories lists every valid category, in documentation order.
var Categories = []Category{CategoryMarketing, CategoryUtility, CategoryAuthentication}

// Pos is a 1-based line and column in a flow file.
type Pos struct {
	Line int
	Col  int
}

// Flow is a loaded, validated flow file. It is immutable once loaded and
// safe to share between goroutines.
type Flow struct {
	File     string // the name the file was loaded under; prefixes every error
	Name     string // `name:`, or the file's base name without extension
	Version  string // first 12 hex digits of the SHA-256 of the file's bytes
	Business string // the business's name as customers know it
	Language string // the flow's language (BCP 47 primary tag), default "en"
	Help     string // the answer to HELP and INFO, in Language
	// HelpVariants are Help in other languages, by language (`help:
	// {es: …}`); see HelpFor.
	HelpVariants map[string]string

	// OptInExpiry is how long after it was sent an opt-in request may be
	// answered with consent (`opt_in_expiry:`, at most 24h). Whatever it
	// says, a request expires when the customer service window it was sent
	// in closes; 0 means just that. An answer to an expired request does
	// not opt in: the engine asks again.
	OptInExpiry time.Duration

	// Messages overrides the engine's default wording of the global
	// keyword answers and of the handoff notices. Empty fields keep the
	// defaults.
	Messages Messages

	// HandoffTimeout is how long a handoff lasts after the customer's
	// latest message when no agent hands the conversation back: then the
	// bot resumes. `handoff: {timeout: …}`, else DefaultHandoffTimeout; a
	// handoff transition may set its own (see HandoffTimeoutOf).
	HandoffTimeout time.Duration

	Topics    []TopicDef // in file order
	Templates []Template // in file order

	// Keywords holds per-language keyword lists. A list given for a
	// language replaces the engine's default list of that kind for it;
	// a nil list keeps the default.
	Keywords map[string]KeywordSet

	Start      StateName
	States     map[StateName]*State
	StateOrder []StateName // states in file order

	// Languages are the languages the prompts are written in: Language
	// first, then every language a prompt variant names, sorted.
	Languages []string
	// Vars are the default values of the flow's variables (`vars:`);
	// set and capture change them per conversation. Prompts use them as
	// {{name}}.
	Vars map[string]string
}

// Messages is the wording of the engine's answers to global keywords.
// {business} is replaced with the business name.
type Messages struct {
	Stopped    string // confirms an opt-out keyword
	Restarted  string // confirms START/UNSTOP
	NotStopped string // answers START when there is nothing to restore
	// ConfirmStop asks whether the customer wants to stop, when a message
	// looked like an opt-out without being a certain one ("stop it").
	ConfirmStop string
	// StopDeclined answers a NO to ConfirmStop: nothing changed.
	StopDeclined string

	// Handoff tells the customer a person will take over (a handoff
	// transition fired); HandoffTimeout that nobody did in time and the bot
	// is back; HandoffReleased that an agent handed the conversation back.
	Handoff         string
	HandoffTimeout  string
	HandoffReleased string

	// Variants are the wording in other languages, by language: a field
	// of a variant is empty when that message has no wording in its
	// language. The variants have no Variants themselves. See For.
	Variants map[string]Messages
}

// messageFields are the fields of Messages, in the order of messageKeys:
// the loader fills them and For picks each one's language.
var messageFields = []func(*Messages) *string{
	func(m *Messages) *string { return &m.Stopped },
	func(m *Messages) *string { return &m.Restarted },
	func(m *Messages) *string { return &m.NotStopped },
	func(m *Messages) *string { return &m.Handoff },
	func(m *Messages) *string { return &m.HandoffTimeout },
	func(m *Messages) *string { return &m.HandoffReleased },
	func(m *Messages) *string { return &m.ConfirmStop },
	func(m *Messages) *string { return &m.StopDeclined },
}

// For returns the wording of the messages in a language: each message's
// wording in that language, or else the flow language's (which is empty
// when the flow keeps the engine's default).
func (m Messages) For(lang string) Messages {
	v, ok := m.Variants[lang]
	if !ok {
		return m
	}
	out := m
	for _, field := range messageFields {
		if text := *field(&v); text != "" {
			*field(&out) = text
		}
	}
	return out
}

// HelpFor returns the help text in a language, falling back to the flow's
// language; it is empty when the flow has no help text.
func (f *Flow) HelpFor(lang string) string {
	if s, ok := f.HelpVariants[lang]; ok {
		return s
	}
	return f.Help
}

// KeywordSet is one language's global keyword lists.
type KeywordSet struct {
	OptOut []string
	OptIn  []string
	Help   []string
	Polite []string
}

// TopicDef declares a topic.
type TopicDef struct {
	Name        Topic
	Category    Category
	Description string // what the customer will receive, in their words, in the flow's language
	// DescriptionVariants are Description in other languages, by
	// language (`description: {fr: …}`); see DescriptionFor.
	DescriptionVariants map[string]string
	// Aliases are other ways a prompt may describe the topic.
	Aliases []string
	// FrequencyCap, when above 0, caps this topic's templates per customer
	// per rolling 24 hours.
	FrequencyCap int
	// GrantedBy are the sources other than the chat that may grant this
	// topic (web, signup, …): bot.Source values as written.
	GrantedBy []string
	Pos       Pos
}

// DescriptionFor returns the topic's description in a language, falling
// back to the flow's language.
func (t TopicDef) DescriptionFor(lang string) string {
	if s, ok := t.DescriptionVariants[lang]; ok {
		return s
	}
	return t.Description
}

// Template declares a template message the business may send.
type Template struct {
	Name     string
	Language string
	Topic    Topic
	Pos      Pos
}

// State is one step of the conversation.
type State struct {
	Name   StateName
	Prompt Prompt
	On     []Transition // tried in order; the first match wins
	Pos    Pos
}

// Prompt is what the bot sends on entering a state. Text may hold
// {{variables}}, always written {{name}} and naming a variable the flow
// declares, sets, captures or has built in (see Interpolate); fragments
// ({{> name}}) are already expanded.
type Prompt struct {
	Text    string
	Buttons []Button // at most 3 (WhatsApp quick replies)
	List    *List    // a list message instead of buttons
	// Variants are the prompt in other languages, by language: the same
	// button and row ids, other wording. The flow's language is Text.
	Variants map[string]PromptVariant
	// Experiment, on the prompt of a state with an opt_in transition, is
	// other wordings of the opt-in request, each shown to a share of the
	// customers (see Assign); empty when the prompt has no experiment.
	Experiment []Variant

	// ExperimentPos is where the experiment is declared.
	ExperimentPos Pos
}

// PromptVariant is a prompt's wording in one more language.
type PromptVariant struct {
	Text    string
	Buttons []Button // nil, or the prompt's button ids (in the variant's own order)
	List    *List    // nil, or the prompt's row ids (in the variant's own order)
}

// List is a WhatsApp list message: a button that opens at most 10 rows.
type List struct {
	Button string // the label of the button that opens the list
	Rows   []Row
	Pos    Pos
}

// Row is one choice of a list message; a transition's `button:` names its id.
type Row struct {
	ID          string
	Title       string // at most 24 characters
	Description string // at most 72 characters
	Pos         Pos
}

// ForLanguage returns the prompt as written for a language, falling back
// to the flow's own wording.
func (p Prompt) ForLanguage(lang string) Prompt {
	v, ok := p.Variants[lang]
	if !ok {
		return p
	}
	out := Prompt{Text: v.Text, Buttons: v.Buttons, List: v.List, Variants: p.Variants, Experiment: p.Experiment}
	if out.Buttons == nil {
		out.Buttons = p.Buttons
	}
	if out.List == nil {
		out.List = p.List
	}
	return out
}

// Button is a quick-reply button.
type Button struct {
	ID    string
	Title string
	Pos   Pos
}

// Transition leaves a state when its trigger matches. Exactly one kind of
// trigger is set: Button and/or Keywords and/or Regex (any matches), or
// Else, or a timer (After or BeforeWindowCloses).
type Transition struct {
	Button   string         // a button id or list row id of the state's prompt
	Keywords []string       // matched against the normalised message
	Regex    *regexp.Regexp // RE2, matched against the message as written
	Else     bool           // "anything else"
	// After fires when the customer has not answered for this long.
	After time.Duration
	// BeforeWindowCloses fires once, this long before the customer service
	// window closes, while a free-form message can still be sent.
	BeforeWindowCloses time.Duration

	Goto     StateName // next state; its prompt is sent
	GotoFlow string    // with Goto: a state of another flow of the business (goto: flow/state)
	End      bool      // end the conversation after this transition
	OptIn    Topic     // record an opt-in for this topic
	OptOut   Topic     // record an opt-out for this topic, or TopicAll
	// Set assigns conversation variables (values may use {{variables}}).
	Set map[string]string
	// Capture stores the customer's answer in this variable.
	Capture string
	// Handoff stops the bot and hands the conversation to a human agent's
	// queue; the engine tells the customer and publishes a handoff event.
	Handoff string
	// HandoffTimeout, when above 0, replaces the flow's HandoffTimeout for
	// this handoff.
	HandoffTimeout time.Duration
	// HandoffResume is the state the bot resumes in when the handoff ends;
	// "" resumes in the state the handoff left.
	HandoffResume StateName
	Pos           Pos
}

// DefaultHandoffTimeout is how long a handoff lasts after the customer's
// latest message when the flow sets no timeout and no agent hands the
// conversation back: long enough for a staffed queue to pick the customer
// up, short enough that a customer nobody answers is not left waiting for
// the rest of the day, and far inside the 24-hour customer service window,
// so that the bot can still say it is back.
const DefaultHandoffTimeout = time.Hour

// HandoffTimeoutOf is how long the handoff of transition t lasts after the
// customer's latest message: its own timeout, else the flow's.
func (f *Flow) HandoffTimeoutOf(t *Transition) time.Duration {
	if t.HandoffTimeout > 0 {
		return t.HandoffTimeout
	}
	if f.HandoffTimeout > 0 {
		return f.HandoffTimeout
	}
	return DefaultHandoffTimeout
}

// HandoffQueues lists the queues the flow hands off to, in file order,
// each once.
func (f *Flow) HandoffQueues() []string {
	var out []string
	for _, name := range f.StateOrder {
		for _, t := range f.States[name].On {
			if t.Handoff != "" && !slices.Contains(out, t.Handoff) {
				out = append(out, t.Handoff)
			}
		}
	}
	return out
}

// IsTimer reports whether the transition fires on time, not on a message.
func (t *Transition) IsTimer() bool { return t.After > 0 || t.BeforeWindowCloses > 0 }

// Topic returns the declared topic with this name.
func (f *Flow) Topic(name Topic) (TopicDef, bool) {
	for _, t := range f.Topics {
		if t.Name == name {
			return t, true
		}
	}
	return TopicDef{}, false
}

// Template returns the declared template with this name.
func (f *Flow) Template(name string) (Template, bool) {
	for _, t := range f.Templates {
		if t.Name == name {
			return t, true
		}
	}
	return Template{}, false
}
