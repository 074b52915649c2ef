package bot

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/optinbot/optinbot/flows"
)

// Default wording of the answers to global keywords; a flow's `messages:`
// (and `help:`) override them, per language if the flow gives them so. The
// answers are in the customer's language (see language). {business} is the
// business name, {topics} the descriptions of the topics restored, in the
// customer's language too.
const (
	DefaultStopped    = "You're unsubscribed from {business} on WhatsApp and won't get more messages from us. Reply START to subscribe again."
	DefaultRestarted  = "Welcome back! You're subscribed again to {business} on WhatsApp: {topics}. Reply STOP at any time to unsubscribe."
	DefaultNotStopped = "You have no paused {business} subscription on WhatsApp to restart. Reply HELP for help."
	DefaultHelp       = "{business} on WhatsApp. Reply STOP to unsubscribe, START to subscribe again."
	// ProviderStopped answers START after the provider reported the stop
	// (the customer blocked the business or turned messages off in the app):
	// only the customer can undo that, in WhatsApp.
	ProviderStopped = "You turned off messages from {business} in WhatsApp, so they stay off. To get them again, turn them back on in WhatsApp."
)

// Business is one business the engine serves: its current flow, its global
// keywords and its frequency caps. It is immutable once built.
type Business struct {
	ID       BusinessID
	Machine  *Machine // the current flow version: new conversations start on it
	Keywords *Keywords
	Caps     Caps
	// DefaultSender sends business-initiated messages whose request names
	// no sender.
	DefaultSender string
	// NumberedSenders are the senders whose channel shows buttons and list
	// rows as numbered lines, where a bare number picks one.
	NumberedSenders map[string]bool
}

// turnBuilder accumulates a turn's effects, numbering them so a replayed
// input yields the same ids.
type turnBuilder struct {
	turn    Turn
	sess    *Session
	biz     *Business
	inputID string
	// inReplyTo is the inbound message the turn answers ("" for timers and
	// requests).
	inReplyTo string
	// previousInbound is the customer's last message before this one.
	previousInbound time.Time
	sender          string
	now             time.Time
	// providerAt is when the provider received the input, for the ledger's
	// evidence (zero for inputs no provider sent).
	providerAt time.Time
	// consent effects come before replies within a turn
	consent []Effect
	replies []Effect
}

func newTurn(biz *Business, s *Session, dedupID, inputID, sender string, now time.Time) *turnBuilder {
	return &turnBuilder{
		turn: Turn{Business: biz.ID, Customer: s.Customer, DedupID: dedupID, Conversation: s.Conversation, At: now},
		sess: s, biz: biz, inputID: inputID, sender: sender, now: now,
	}
}

func (b *turnBuilder) effect(kind EffectKind) Effect {
	n := len(b.consent) + len(b.replies)
	return Effect{
		ID:       fmt.Sprintf("%s/%s/%d", b.biz.ID, b.inputID, n),
		Kind:     kind,
		Business: b.biz.ID,
		Customer: b.sess.Customer,
		Sender:   b.sender,
	}
}

func (b *turnBuilder) recordConsent(ev ConsentEvent) {
	e := b.effect(EffectConsent)
	ev.ID = e.ID
	ev.Customer, ev.Business, ev.Channel, ev.At = b.sess.Customer, b.biz.ID, Channel, b.now
	ev.Sender, ev.ProviderAt = b.sender, b.providerAt
	if ev.Language == "" && b.biz.Machine != nil {
		ev.Language = language(&b.turn.Conversation, b.biz.Machine.Flow)
	}
	e.Consent = &ev
	b.turn.Consent = append(b.turn.Consent, ev)
	b.consent = append(b.consent, e)
}

// reply answers the customer's message, if the guard lets it through, and
// reports whether it did.
func (b *turnBuilder) reply(inReplyTo string, p flows.Prompt) bool {
	if reason := b.biz.Caps.Check(b.sess, Outbound{Kind: KindText, Reply: true}, b.now); reason != "" {
		e := b.effect(EffectRefused)
		e.InReplyTo = inReplyTo
		e.Refusal = &Refusal{Kind: KindText, Reason: reason}
		b.replies = append(b.replies, e)
		return false
	}
	e := b.effect(EffectMessage)
	e.InReplyTo = inReplyTo
	e.Message = &Message{Kind: KindText, Text: p.Text, Buttons: buttons(p.Buttons), List: list(p.List)}
	b.replies = append(b.replies, e)
	return true
}

func (b *turnBuilder) done() Turn {
	b.turn.Effects = append(b.consent, b.replies...)
	return b.turn
}

func list(l *flows.List) *List {
	if l == nil {
		return nil
	}
	out := &List{Button: l.Button, Rows: make([]ListRow, len(l.Rows))}
	for i, r := range l.Rows {
		out.Rows[i] = ListRow{ID: r.ID, Title: r.Title, Description: r.Description}
	}
	return out
}

func buttons(bs []flows.Button) []Button {
	if len(bs) == 0 {
		return nil
	}
	out := make([]Button, len(bs))
	for i, bt := range bs {
		out[i] = Button{ID: bt.ID, Title: bt.Title}
	}
	return out
}

func (biz *Business) wording(custom, fallback string) string {
	if custom == "" {
		custom = fallback
	}
	return strings.ReplaceAll(custom, "{business}", biz.Machine.Flow.Business)
}

// learnLanguage takes the language of a global keyword the customer wrote
// (ARRÊT is French) as theirs when they have chosen none and the flow
// speaks it, so the answer and what follows come in that language.
func (biz *Business) learnLanguage(c *Conversation, lang string) {
	f := biz.Machine.Flow
	if lang == "" || lang == f.Language || c.Vars["language"] != "" {
		return
	}
	_, helps := f.HelpVariants[lang]
	_, says := f.Messages.Variants[lang]
	if slices.Contains(f.Languages, lang) || helps || says {
		setVar(c, "language", lang)
	}
}

// messages is the wording of the global keyword answers in the customer's
// language. The language outlives the conversation (a STOP ends it, not
// its variables), so confirmations stay in the language the customer chose.
func (biz *Business) messages(c *Conversation) flows.Messages {
	f := biz.Machine.Flow
	return f.Messages.For(language(c, f))
}

// topics lists every topic the business has for this customer: the current
// flow's, then any the customer holds consent for from an older version.
func (biz *Business) topics(s *Session) []flows.Topic {
	out := make([]flows.Topic, 0, len(biz.Machine.Flow.Topics)+len(s.Consent))
	for _, t := range biz.Machine.Flow.Topics {
		out = append(out, t.Name)
	}
	var extra []flows.Topic
	for t := range s.Consent {
		if !slices.Contains(out, t) {
			extra = append(extra, t)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

func (biz *Business) category(conv *Machine, topic flows.Topic) flows.Category {
	if t, ok := biz.Machine.Flow.Topic(topic); ok {
		return t.Category
	}
	if conv != nil {
		if t, ok := conv.Flow.Topic(topic); ok {
			return t.Category
		}
	}
	return ""
}

// HandleInbound is the engine's step for a customer's message: global
// keywords first, then the flow. conv is the machine of the version the
// customer's conversation is on (nil, or ignored, when none is active). It
// does no I/O: the caller commits the returned Turn and publishes its
// effects.
func (biz *Business) HandleInbound(conv *Machine, s *Session, in Inbound, now time.Time) Turn {
	previousInbound := s.Conversation.LastInboundAt
	if in.Timestamp.After(s.Conversation.LastInboundAt) {
		s.Conversation.LastInboundAt = in.Timestamp
	}
	key := DedupID(InputInbound, in.Provider, s.Customer, in.ID)
	b := newTurn(biz, s, key, key, in.Sender, now)
	b.inReplyTo = in.ID
	b.providerAt = in.Timestamp
	b.previousInbound = previousInbound
	b.turn.Conversation.LastInboundAt = s.Conversation.LastInboundAt
	// A customer who writes is reachable again.
	b.turn.Conversation.HeldSince = time.Time{}
	if in.Reaction {
		// A reaction opens the window but answers no question.
		return b.done()
	}
	// A customer who writes keeps a handoff going.
	biz.touchHandoff(b)
	normalized := Normalize(in.Text)
	// Whatever the customer writes answers the question whether to stop,
	// or goes on past it: either way it lapses.
	asked := b.turn.Conversation.StopAsked
	b.turn.Conversation.StopAsked = nil
	if in.ButtonID == "" {
		m := biz.Keywords.MatchMessage(in.Text, normalized)
		if asked != nil && biz.answerStopQuestion(b, conv, in, normalized, m, asked) {
			return b.done()
		}
		if m.Kind != KeywordNone && m.Kind != KeywordUncertainOptOut {
			biz.learnLanguage(&b.turn.Conversation, m.Language)
		}
		switch m.Kind {
		case KeywordOptOut:
			biz.stop(b, conv, in, "keyword "+strings.ToUpper(m.Keyword), b.turn.Conversation.LastPrompt)
			return b.done()
		case KeywordUncertainOptOut:
			biz.askStop(b, in, m)
			return b.done()
		case KeywordOptIn:
			biz.restart(b, in, m.Keyword)
			return b.done()
		case KeywordHelp:
			flow := biz.Machine.Flow
			help := flow.HelpFor(language(&b.turn.Conversation, flow))
			b.reply(in.ID, flows.Prompt{Text: biz.wording(help, DefaultHelp)})
			return b.done()
		}
	}
	biz.advance(b, conv, in, normalized)
	return b.done()
}

// askStop asks the customer whether they want to stop, because their
// message looked like an opt-out without being a certain one. It changes
// neither consent nor the flow: the question waits for the next message.
func (biz *Business) askStop(b *turnBuilder, in Inbound, m Match) {
	c := &b.turn.Conversation
	text, lang := biz.stopWording(c, m.Language, func(m flows.Messages) string { return m.ConfirmStop },
		func(d languageDefaults) string { return d.ConfirmStop })
	c.StopAsked = &StopQuestion{At: b.now, Text: in.Text, Prompt: text, Language: lang}
	b.reply(in.ID, flows.Prompt{Text: text})
}

// answerStopQuestion takes the customer's message as the answer to the
// question whether to stop, if it is one, and reports whether it was. An
// opt-out keyword, an uncertain opt-out again, a YES ("yes", "sí, por
// favor", "ok") and any text that the flow's current state would take as
// an opt-in confirm the stop: a YES to "do you want to stop?" is never an
// opt-in. A NO ("no", "don't stop") keeps everything as it was. Anything
// else is not an answer: it goes to the global keywords and the flow as
// if the question had not been asked.
func (biz *Business) answerStopQuestion(b *turnBuilder, conv *Machine, in Inbound, normalized string, m Match, asked *StopQuestion) bool {
	trigger := func(word string) string {
		return fmt.Sprintf("confirm_stop %s after %q", strings.ToUpper(word), asked.Text)
	}
	switch {
	case m.Kind == KeywordOptOut:
		biz.stop(b, conv, in, trigger(m.Keyword), asked.Prompt)
	case biz.Keywords.DeclinesStop(normalized):
		text, _ := biz.stopWording(&b.turn.Conversation, asked.Language, func(m flows.Messages) string { return m.StopDeclined },
			func(d languageDefaults) string { return d.StopDeclined })
		b.reply(in.ID, flows.Prompt{Text: text})
	case m.Kind == KeywordUncertainOptOut:
		biz.stop(b, conv, in, trigger(m.Keyword), asked.Prompt)
	case biz.Keywords.ConfirmsStop(normalized), biz.wouldOptIn(b, conv, in, normalized):
		biz.stop(b, conv, in, trigger(normalized), asked.Prompt)
	default:
		return false
	}
	return true
}

// wouldOptIn reports whether the conversation's current state would take
// the typed message by a transition that records an opt-in.
func (biz *Business) wouldOptIn(b *turnBuilder, m *Machine, in Inbound, normalized string) bool {
	c := &b.turn.Conversation
	if c.State == "" || m == nil {
		return false
	}
	cs := m.states[c.State]
	if cs == nil {
		return false
	}
	// A digit counts as a button here: an answer that might opt in confirms
	// the stop rather than grant consent.
	mv, _ := cs.match("", "", in.Text, normalized, func(int) bool { return true })
	return mv != nil && mv.t.OptIn != ""
}

// stopWording is the wording of the question whether to stop (or of the
// answer to a NO) with the business's name: in the conversation's
// language, and first in lang, the language of the customer's phrase, when
// that differs and the flow or the engine has a wording in it. It returns
// the text and the language it put first ("" when none). pick selects the
// flow's wording, def the engine's default; the flow's wins in its
// languages, the engine's covers the others, and English the rest.
func (biz *Business) stopWording(c *Conversation, lang string, pick func(flows.Messages) string, def func(languageDefaults) string) (string, string) {
	f := biz.Machine.Flow
	own := language(c, f)
	in := func(l string) string {
		if v, ok := f.Messages.Variants[l]; ok && pick(v) != "" {
			return pick(v)
		}
		if l == f.Language && pick(f.Messages) != "" {
			return pick(f.Messages)
		}
		if d, ok := defaults[l]; ok {
			return def(d)
		}
		return ""
	}
	text := cmp.Or(in(own), pick(f.Messages), in(f.Language), def(defaults["en"]))
	text = biz.wording(text, text)
	if lang == "" || lang == own {
		return text, ""
	}
	first := in(lang)
	if first == "" {
		return text, ""
	}
	first = biz.wording(first, first)
	if first == text {
		return text, ""
	}
	return first + "\n\n" + text, lang
}

// stop ends every WhatsApp permission of the business, ends the
// conversation and confirms. trigger and prompt are the evidence: what the
// customer wrote that counts as a STOP, and what they had been shown.
func (biz *Business) stop(b *turnBuilder, conv *Machine, in Inbound, trigger, prompt string) {
	c := &b.turn.Conversation
	var restorable []flows.Topic
	for _, t := range biz.topics(b.sess) {
		if b.sess.Consent[t] == OptedIn {
			restorable = append(restorable, t)
		}
	}
	// A second STOP keeps what the first one can restore.
	if len(restorable) == 0 && c.Stop != nil && !c.Stop.ByProvider {
		restorable = c.Stop.Restorable
	}
	flowName, flowVersion := c.FlowName, c.FlowVersion
	if flowName == "" {
		flowName, flowVersion = biz.Machine.Flow.Name, biz.Machine.Flow.Version
	}
	for _, t := range biz.topics(b.sess) {
		b.recordConsent(ConsentEvent{
			Topic: t, Category: biz.category(conv, t), Status: OptedOut, Source: SourceInChannel,
			Trigger: trigger, InboundID: in.ID, InboundText: in.Text,
			Prompt: prompt, FlowName: flowName, FlowVersion: flowVersion,
		})
	}
	confirmation := biz.wording(biz.messages(c).Stopped, DefaultStopped)
	if c.Stop != nil && c.Stop.ByProvider {
		// The provider's stop stays in force: START must not undo it.
		restorable = nil
	}
	c.Stop = &StopRecord{At: b.now, ByProvider: c.Stop != nil && c.Stop.ByProvider, Restorable: restorable, Prompt: confirmation}
	c.State, c.FlowName, c.FlowVersion = "", "", ""
	c.LastPrompt = confirmation
	b.reply(in.ID, flows.Prompt{Text: confirmation})
	if c.Handoff != "" {
		// The agents must stop too.
		biz.endHandoff(b, nil, HandoffOptedOut, "", "")
	}
}

// restart re-grants the topics that were active just before the latest
// keyword STOP; the STOP confirmation is the prompt on record.
func (biz *Business) restart(b *turnBuilder, in Inbound, keyword string) {
	c := &b.turn.Conversation
	switch {
	case c.Stop != nil && c.Stop.ByProvider:
		b.reply(in.ID, flows.Prompt{Text: biz.wording(ProviderStopped, ProviderStopped)})
		return
	case c.Stop == nil || len(c.Stop.Restorable) == 0:
		b.reply(in.ID, flows.Prompt{Text: biz.wording(biz.messages(c).NotStopped, DefaultNotStopped)})
		return
	}
	lang := language(c, biz.Machine.Flow)
	var described []string
	for _, t := range c.Stop.Restorable {
		b.recordConsent(ConsentEvent{
			Topic: t, Category: biz.category(nil, t), Status: OptedIn, Source: SourceInChannel,
			Trigger: "keyword " + strings.ToUpper(keyword), InboundID: in.ID, InboundText: in.Text,
			Prompt: c.Stop.Prompt, FlowName: biz.Machine.Flow.Name, FlowVersion: biz.Machine.Flow.Version,
		})
		if def, ok := biz.Machine.Flow.Topic(t); ok {
			described = append(described, def.DescriptionFor(lang))
		} else {
			described = append(described, string(t))
		}
	}
	c.Stop = nil
	text := biz.wording(biz.messages(c).Restarted, DefaultRestarted)
	text = strings.ReplaceAll(text, "{topics}", strings.Join(described, "; "))
	c.LastPrompt = text
	b.reply(in.ID, flows.Prompt{Text: text})
}

// advance applies the message to the flow: a customer with no active
// conversation starts one and is shown the start prompt; otherwise the
// first matching transition of the current state fires.
func (biz *Business) advance(b *turnBuilder, m *Machine, in Inbound, normalized string) {
	c := &b.turn.Conversation
	if c.Handoff != "" {
		// A human agent has the conversation: the message is theirs.
		biz.handoffInbound(b, m, in)
		return
	}
	var cs *compiledState
	if c.State != "" && m != nil {
		cs = m.states[c.State]
	}
	if cs == nil {
		m = biz.Machine
		c.FlowName, c.FlowVersion = m.Flow.Name, m.Flow.Version
		// Variables outlive a conversation: the customer's language and
		// what they told the bot before still hold.
		biz.enter(b, m, m.Flow.Start, in.ID)
		return
	}
	if in.ButtonID != "" && in.ButtonTitle == "" {
		// Some providers send only the id; the title is what the customer saw.
		in.ButtonTitle = cs.optionTitle(in.ButtonID)
	}
	if in.Unsupported && in.ButtonID == "" {
		// The provider could not pass on what the customer sent: it is no
		// answer (not even "anything else"), so ask the question again.
		biz.enter(b, m, c.State, in.ID)
		return
	}
	// A bare number picks the nth choice only where the customer saw the
	// choices numbered: on a channel that numbers them, or in the text of
	// the state's prompt (as last sent, or as written for their language:
	// START's confirmation may have come since).
	numbered := func(n int) bool {
		return biz.NumberedSenders[in.Sender] || flows.NumbersChoice(c.LastPrompt, n) ||
			flows.NumbersChoice(cs.state.Prompt.ForLanguage(language(c, m.Flow)).Text, n)
	}
	mv, trigger := cs.match(in.ButtonID, in.ButtonTitle, in.Text, normalized, numbered)
	if mv == nil {
		// No transition takes this answer: show the question again rather
		// than leave the customer without a reply.
		biz.enter(b, m, c.State, in.ID)
		return
	}
	if mv.t.OptIn != "" && requestExpired(c, in, b.now) {
		// A YES to a question asked before the customer service window it
		// was sent in closed (or the flow's opt_in_expiry) is stale: ask
		// again, and let the fresh answer to the fresh question count.
		biz.enter(b, m, c.State, in.ID)
		return
	}
	text := in.Text
	if in.ButtonID != "" {
		text = in.ButtonTitle
	}
	biz.fire(b, m, mv, trigger, in.ID, text)
}

// requestExpired reports whether the current prompt had expired as an
// opt-in request when the customer answered it: at the provider's time of
// their message, or now when it has none.
func requestExpired(c *Conversation, in Inbound, now time.Time) bool {
	at := in.Timestamp
	if at.IsZero() {
		at = now
	}
	return !at.Before(c.PromptExpires)
}

// promptExpiry is when answers to a prompt sent now stop counting as
// consent: when the customer service window closes (or the provider said
// it did), or sooner by the flow's opt_in_expiry; at once when the prompt
// was never sent.
func promptExpiry(f *flows.Flow, c *Conversation, now time.Time, sent bool) time.Time {
	if !sent || !c.windowOpen(now) {
		return now
	}
	end := c.LastInboundAt.Add(ServiceWindow)
	if d := f.OptInExpiry; d > 0 && now.Add(d).Before(end) {
		end = now.Add(d)
	}
	return end
}

// fire takes a transition: its actions, then the next state's prompt.
// inputID and text are the message that triggered it ("" for a timer).
func (biz *Business) fire(b *turnBuilder, m *Machine, mv *move, trigger, inputID, text string) {
	c := &b.turn.Conversation
	evidence := ConsentEvent{Source: SourceInChannel, Trigger: trigger, InboundID: inputID, InboundText: text,
		Prompt: c.LastPrompt, FlowName: m.Flow.Name, FlowVersion: m.Flow.Version}
	for name, value := range mv.t.Set {
		setVar(c, name, render(value, biz, b.sess.Customer, m.Flow, c))
	}
	if mv.t.Capture != "" {
		setVar(c, mv.t.Capture, strings.TrimSpace(text))
	}
	if t := mv.t.OptIn; t != "" {
		ev := evidence
		if v := m.variant(biz.ID, c.State, b.sess.Customer); v != nil {
			// The trigger is in the chain's hash, so the variant is as
			// tamper-evident as the prompt text it names.
			ev.Trigger = ExperimentTrigger(ev.Trigger, c.State, v.ID)
		}
		ev.Topic, ev.Category, ev.Status = t, biz.category(m, t), OptedIn
		b.recordConsent(ev)
		c.Stop = nil // a fresh opt-in supersedes a standing STOP
	}
	if t := mv.t.OptOut; t != "" {
		topics := []flows.Topic{t}
		if t == flows.TopicAll {
			topics = biz.topics(b.sess)
		}
		for _, t := range topics {
			ev := evidence
			ev.Topic, ev.Category, ev.Status = t, biz.category(m, t), OptedOut
			b.recordConsent(ev)
		}
	}
	if mv.t.Handoff != "" {
		biz.startHandoff(b, m, mv.t)
		return
	}
	if mv.t.GotoFlow != "" && mv.t.GotoFlow != m.Flow.Name {
		// Another flow's state: only the business's current flow is
		// loaded, so the conversation ends here and restarts on its next
		// message (see docs/flows.md).
		endConversation(c)
		return
	}
	next, err := m.fire(c.State, mv)
	if err != nil {
		// Compile checked every target, so this is a bug: restart cleanly
		// rather than strand the customer.
		next = m.Flow.Start
	}
	if mv.t.Goto != "" {
		biz.enter(b, m, next, b.inReplyTo)
	}
	if mv.t.End {
		endConversation(c)
	}
}

func endConversation(c *Conversation) {
	c.State, c.FlowName, c.FlowVersion = "", "", ""
	c.Timers = nil
}

func setVar(c *Conversation, name, value string) {
	if c.Vars == nil {
		c.Vars = map[string]string{}
	}
	c.Vars[name] = value
}

func copyVars(v map[string]string) map[string]string {
	if len(v) == 0 {
		return nil
	}
	out := make(map[string]string, len(v))
	for k, x := range v {
		out[k] = x
	}
	return out
}

// language is the customer's language: the "language" variable if the flow
// set one, else the flow's.
func language(c *Conversation, f *flows.Flow) string {
	if l := c.Vars["language"]; l != "" {
		return l
	}
	return f.Language
}

// render replaces {{name}} with the conversation's variables, the flow's
// defaults and the built-ins business, customer and language. An unknown
// name renders empty (the loader rejects names nothing sets).
func render(text string, biz *Business, customer CustomerID, f *flows.Flow, c *Conversation) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	var out strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			break
		}
		out.WriteString(text[:i])
		name := strings.TrimSpace(text[i+2 : i+j])
		switch v, ok := c.Vars[name]; {
		case ok:
			out.WriteString(v)
		case name == "business":
			out.WriteString(f.Business)
		case name == "customer":
			out.WriteString(string(customer))
		case name == "language":
			out.WriteString(language(c, f))
		default:
			out.WriteString(f.Vars[name])
		}
		text = text[i+j+2:]
	}
	out.WriteString(text)
	return out.String()
}

// enter moves the conversation into a state, sends its prompt in the
// customer's language with its variables filled in, and sets the state's
// timers. A state without transitions ends the conversation once its prompt
// is sent.
func (biz *Business) enter(b *turnBuilder, m *Machine, state flows.StateName, inReplyTo string) {
	c := &b.turn.Conversation
	st := m.states[state].state
	c.State = state
	lang := language(c, m.Flow)
	p := st.Prompt.ForLanguage(lang)
	v := m.variant(biz.ID, state, b.sess.Customer)
	if v != nil {
		p.Text = v.TextFor(lang)
	}
	p.Text = render(p.Text, biz, b.sess.Customer, m.Flow, c)
	c.LastPrompt = p.Text
	sent := b.reply(inReplyTo, p)
	if v != nil && sent {
		b.turn.Asks = append(b.turn.Asks, PromptAsk{Business: biz.ID, Customer: b.sess.Customer,
			Flow: m.Flow.Name, FlowVersion: m.Flow.Version, State: state, Variant: v.ID, At: b.now})
	}
	c.PromptExpires = promptExpiry(m.Flow, c, b.now, sent)
	c.Timers = timersFor(st, c, b.now)
	if len(st.On) == 0 {
		endConversation(c)
	}
}

// timersFor schedules a state's time transitions: "after" counts from now
// (the prompt just sent); "before_window_closes" from the end of the
// customer service window, and only while that is still ahead.
func timersFor(st *flows.State, c *Conversation, now time.Time) []Timer {
	var out []Timer
	for i := range st.On {
		t := &st.On[i]
		var due time.Time
		switch {
		case t.After > 0:
			due = now.Add(t.After)
		case t.BeforeWindowCloses > 0:
			due = c.LastInboundAt.Add(ServiceWindow - t.BeforeWindowCloses)
			if c.LastInboundAt.IsZero() || !due.After(now) {
				continue
			}
		default:
			continue
		}
		out = append(out, Timer{ID: fmt.Sprintf("%s#%d@%d", st.Name, i, due.Unix()), Due: due, State: st.Name, Transition: i})
	}
	return out
}

// HandleTimer fires a due timer of the conversation's current state. A timer
// the conversation no longer holds (the customer answered, the state
// changed) does nothing.
func (biz *Business) HandleTimer(conv *Machine, s *Session, timer Timer, now time.Time) Turn {
	// What a timer sends goes from the business's default sender: the
	// customer's message that opened the conversation is long handled.
	key := DedupID(InputTimer, "", s.Customer, timer.ID)
	b := newTurn(biz, s, key, key, biz.DefaultSender, now)
	c := &b.turn.Conversation
	held := false
	var heldTimer Timer
	for _, t := range c.Timers {
		if t.ID == timer.ID {
			held, heldTimer = true, t
		}
	}
	// The timer is spent whatever happens next: fired, or dropped as stale
	// (the flow version changed under it), so it is never due again.
	var rest []Timer
	for _, t := range c.Timers {
		if t.ID != timer.ID {
			rest = append(rest, t)
		}
	}
	c.Timers = rest
	if held && heldTimer.Handoff != nil {
		// A handoff's timeout: nobody handed the conversation back.
		if c.Handoff != "" {
			biz.endHandoff(b, conv, HandoffTimedOut, heldTimer.Handoff.Resume, "")
		}
		return b.done()
	}
	if !held || conv == nil || c.State != timer.State {
		return b.done()
	}
	cs := conv.states[c.State]
	if cs == nil || timer.Transition < 0 || timer.Transition >= len(cs.moves) || !cs.moves[timer.Transition].t.IsTimer() {
		return b.done()
	}
	mv := &cs.moves[timer.Transition]
	// The flow speaks again: a later YES answers it, not an old question
	// whether to stop.
	c.StopAsked = nil
	trigger := "timer after " + mv.t.After.String()
	if mv.t.BeforeWindowCloses > 0 {
		trigger = "timer before_window_closes " + mv.t.BeforeWindowCloses.String()
	}
	biz.fire(b, conv, mv, trigger, "", "")
	return b.done()
}

// HandleSendRequest answers a business's request to message a customer with
// the guard's decision. It fails with ErrBadInput for a template the flow
// does not declare or a topic that contradicts the declared one.
func (biz *Business) HandleSendRequest(s *Session, r SendRequest, now time.Time) (Turn, error) {
	key := DedupID(InputSendRequest, "", s.Customer, r.ID)
	b := newTurn(biz, s, key, key, r.Sender, now)
	e := b.effect(EffectMessage)
	e.RequestID = r.ID
	out := Outbound{Kind: r.Kind}
	msg := &Message{Kind: r.Kind}
	switch r.Kind {
	case KindTemplate:
		tpl, ok := biz.Machine.Flow.Template(r.Template)
		if !ok {
			return Turn{}, fmt.Errorf("send request %s: template %q is not declared by flow %s: %w", r.ID, r.Template, biz.Machine.Flow.Name, ErrBadInput)
		}
		if r.Topic != "" && r.Topic != tpl.Topic {
			return Turn{}, fmt.Errorf("send request %s: template %q belongs to topic %q, not %q: %w", r.ID, r.Template, tpl.Topic, r.Topic, ErrBadInput)
		}
		out.Topic, out.Category = tpl.Topic, biz.category(nil, tpl.Topic)
		msg.Template, msg.Language, msg.Topic, msg.Category = tpl.Name, tpl.Language, tpl.Topic, biz.category(nil, tpl.Topic)
		if r.Language != "" {
			msg.Language = r.Language
		}
		msg.Params = r.Params
	case KindText:
		if strings.TrimSpace(r.Text) == "" {
			return Turn{}, fmt.Errorf("send request %s: a text message needs text: %w", r.ID, ErrBadInput)
		}
		msg.Text = r.Text
	default:
		return Turn{}, fmt.Errorf("send request %s: kind %q is neither template nor text: %w", r.ID, r.Kind, ErrBadInput)
	}
	if reason := biz.Caps.Check(s, out, now); reason != "" {
		e.Kind = EffectRefused
		e.Refusal = &Refusal{Kind: r.Kind, Reason: reason, Template: msg.Template, Topic: msg.Topic}
	} else {
		e.Message = msg
		if r.Kind == KindTemplate {
			b.turn.Templates = append(b.turn.Templates, SentTemplate{At: now, Topic: out.Topic})
		}
		// The business speaks: a later YES answers it, not an old question
		// whether to stop.
		b.turn.Conversation.StopAsked = nil
	}
	b.replies = append(b.replies, e)
	return b.done(), nil
}

// HandleProviderOptOut records a stop the provider reported. With no topics
// it ends every permission and stands like a STOP that START cannot undo;
// with topics (e.g. the customer stopped marketing in the app) it ends
// those.
func (biz *Business) HandleProviderOptOut(s *Session, o ProviderOptOut, now time.Time) Turn {
	key := DedupID(InputProviderOptOut, "", s.Customer, o.ID)
	b := newTurn(biz, s, key, key, "", now)
	b.providerAt = o.At
	biz.providerStop(b, o.Topics, "provider "+o.Reason, o.ID)
	return b.done()
}

// providerStop records a provider-reported opt-out: of the given topics, or,
// with none given, of every topic, standing like a STOP that START cannot
// undo.
func (biz *Business) providerStop(b *turnBuilder, topics []flows.Topic, trigger, inputID string) {
	all := len(topics) == 0
	if all {
		topics = biz.topics(b.sess)
		c := &b.turn.Conversation
		c.Stop = &StopRecord{At: b.now, ByProvider: true}
		c.State, c.FlowName, c.FlowVersion = "", "", ""
	}
	for _, t := range topics {
		b.recordConsent(ConsentEvent{Topic: t, Category: biz.category(nil, t), Status: OptedOut,
			Source: SourceProvider, Trigger: trigger, InboundID: inputID,
			FlowName: biz.Machine.Flow.Name, FlowVersion: biz.Machine.Flow.Version})
	}
	if all && b.turn.Conversation.Handoff != "" {
		biz.endHandoff(b, nil, HandoffOptedOut, "", "")
	}
}

// marketingTopics are the business's topics of category marketing.
func (biz *Business) marketingTopics(s *Session) []flows.Topic {
	var out []flows.Topic
	for _, t := range biz.topics(s) {
		if biz.category(nil, t) == flows.CategoryMarketing {
			out = append(out, t)
		}
	}
	return out
}

func (b *turnBuilder) notice(kind, detail string, at time.Time) {
	e := b.effect(EffectNotice)
	e.Notice = &Notice{Kind: kind, At: at, Detail: detail}
	b.replies = append(b.replies, e)
}

// HandleDeliveryUpdate applies a provider's status for a message. current
// is the message's latest recorded status ("" when none): only a forward
// move is recorded and published, so a late "delivered" never follows
// "read". The signal the status carries is applied whatever its order.
func (biz *Business) HandleDeliveryUpdate(s *Session, u DeliveryUpdate, current string, now time.Time) Turn {
	key := DedupID(InputDeliveryUpdate, "", s.Customer, u.ID)
	b := newTurn(biz, s, key, key, u.Sender, now)
	b.providerAt = u.At
	c := &b.turn.Conversation
	at := u.At
	if at.IsZero() {
		at = now
	}
	trigger := strings.TrimSpace("provider " + u.ErrorCode + " " + u.ErrorTitle)
	switch u.Signal {
	case SignalWindowClosed:
		if at.After(c.WindowClosedAt) {
			c.WindowClosedAt = at
		}
		b.notice(NoticeWindowClosed, u.ErrorCode, at)
	case SignalUndeliverable:
		if c.HeldSince.IsZero() {
			c.HeldSince = at
		}
		b.notice(NoticeHeld, u.ErrorCode, at)
	case SignalDeferred:
		b.notice(NoticeDeferred, u.ErrorCode, at)
	case SignalStopMarketing:
		if topics := biz.marketingTopics(s); len(topics) > 0 {
			biz.providerStop(b, topics, trigger, u.ID)
		}
	case SignalOptedOut:
		biz.providerStop(b, nil, trigger, u.ID)
	}
	if u.MessageID != "" && statusRank(u.Status) > statusRank(current) {
		b.turn.Deliveries = append(b.turn.Deliveries, DeliveryRecord{MessageID: u.MessageID, Status: u.Status, At: at})
		e := b.effect(EffectDelivery)
		e.Delivery = &Delivery{MessageID: u.MessageID, OutboundID: u.OutboundID, Status: u.Status, At: at,
			ErrorCode: u.ErrorCode, ErrorTitle: u.ErrorTitle, Signal: u.Signal}
		b.replies = append(b.replies, e)
	}
	return b.done()
}

// HandleMarketingPreference applies the customer's choice in WhatsApp: a
// stop is a provider opt-out of the business's marketing topics; a resume is
// recorded in the ledger (status resumed, one event per marketing topic) and
// as a notice, and re-grants nothing (only the customer's own YES or START in
// the chat does).
func (biz *Business) HandleMarketingPreference(s *Session, p MarketingPreference, now time.Time) Turn {
	key := DedupID(InputMarketingPreference, "", s.Customer, p.ID)
	b := newTurn(biz, s, key, key, p.Sender, now)
	b.providerAt = p.At
	at := p.At
	if at.IsZero() {
		at = now
	}
	topics := biz.marketingTopics(s)
	if !p.Stop {
		// The ledger keeps the resume as evidence of what the customer did
		// in the app; the topics stay as they were.
		for _, t := range topics {
			b.recordConsent(ConsentEvent{Topic: t, Category: flows.CategoryMarketing, Status: Resumed,
				Source: SourceProvider, Trigger: "provider user_preferences resume marketing", InboundID: p.ID,
				FlowName: biz.Machine.Flow.Name, FlowVersion: biz.Machine.Flow.Version})
		}
		b.notice(NoticeMarketingResumed, p.Detail, at)
		return b.done()
	}
	if len(topics) == 0 {
		b.notice(NoticeMarketingStopped, p.Detail, at)
		return b.done()
	}
	biz.providerStop(b, topics, "provider user_preferences stop marketing", p.ID)
	return b.done()
}
