package flows

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
	Help     string // the answer to HELP and INFO

	// Messages overrides the engine's default wording of the global
	// keyword answers. Empty fields keep the defaults.
	Messages Messages

	Topics    []TopicDef // in file order
	Templates []Template // in file order

	// Keywords holds per-language keyword lists. A list given for a
	// language replaces the engine's default list of that kind for it;
	// a nil list keeps the default.
	Keywords map[string]KeywordSet

	Start      StateName
	States     map[StateName]*State
	StateOrder []StateName // states in file order
}

// Messages is the wording of the engine's answers to global keywords.
// {business} is replaced with the business name.
type Messages struct {
	Stopped    string // confirms an opt-out keyword
	Restarted  string // confirms START/UNSTOP
	NotStopped string // answers START when there is nothing to restore
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
	Description string // what the customer will receive, in their words
	Pos         Pos
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

// Prompt is what the bot sends on entering a state.
type Prompt struct {
	Text    string
	Buttons []Button // at most 3 (WhatsApp quick replies)
}

// Button is a quick-reply button.
type Button struct {
	ID    string
	Title string
	Pos   Pos
}

// Transition leaves a state when its trigger matches the customer's
// message. Exactly one kind of trigger is set: Button and/or Keywords (either
// matches), or Else.
type Transition struct {
	Button   string   // a button id of the state's prompt
	Keywords []string // matched against the normalised message
	Else     bool     // "anything else"

	Goto   StateName // next state; its prompt is sent
	End    bool      // end the conversation after this transition
	OptIn  Topic     // record an opt-in for this topic
	OptOut Topic     // record an opt-out for this topic, or TopicAll
	Pos    Pos
}

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
