package flowtests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/store/memstore"
)

// NumberedSender is the simulated business's sender whose channel shows
// buttons and list rows as numbered lines ("1) Yes"), like Twilio's text
// messages: a customer writing to it may answer with a bare number. The
// customers of a Simulator write to another sender, whose channel shows
// real buttons, unless they say otherwise (a flowtest's numbered: true).
const NumberedSender = "numbered"

// simulatedSender is the sender customers write to by default.
const simulatedSender = "whatsapp"

// SimulationStart is where the simulated clock starts, so outputs are stable.
var SimulationStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// simInput is one line of simulate's input. Exactly one field is set.
type simInput struct {
	From         *string     `json:"from"`
	Text         *string     `json:"text"`
	Button       *string     `json:"button"`
	ID           *string     `json:"id"`
	Advance      *string     `json:"advance"`
	SendTemplate *simSendTp  `json:"send_template"`
	SendText     *simSendTx  `json:"send_text"`
	Release      *simRelease `json:"release"`
}

// simRelease is an agent handing a conversation back to the bot.
type simRelease struct {
	Customer string `json:"customer"`
	State    string `json:"state"` // optional: resume here instead
	Agent    string `json:"agent"` // optional
	ID       string `json:"id"`    // optional; default sim-LINE
}

type simSendTp struct {
	To       string `json:"to"`
	Template string `json:"template"`
	Topic    string `json:"topic"`
}

type simSendTx struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// simCommand is a validated input line.
type simCommand struct {
	inbound *bot.Inbound
	send    *bot.SendRequest
	release *bot.HandoffRelease
	advance time.Duration
}

// ParseLine validates one input line; lineNo makes default ids unique.
func ParseLine(line []byte, lineNo int) (simCommand, error) {
	if len(line) == 0 || line[0] != '{' {
		return simCommand{}, errors.New(`not a JSON object: want a line like {"from":"+14155550100","text":"hi"}`)
	}
	var in simInput
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return simCommand{}, fmt.Errorf("not valid input: %w", err)
	}
	if dec.More() {
		return simCommand{}, errors.New("more than one JSON value on the line")
	}
	kinds := 0
	for _, set := range []bool{in.From != nil, in.Advance != nil, in.SendTemplate != nil, in.SendText != nil, in.Release != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return simCommand{}, errors.New(`want exactly one of "from", "advance", "send_template", "send_text", "release"`)
	}
	if in.From == nil && (in.Text != nil || in.Button != nil || in.ID != nil) {
		return simCommand{}, errors.New(`"text", "button" and "id" go with "from"`)
	}
	id := "sim-" + strconv.Itoa(lineNo)
	switch {
	case in.Advance != nil:
		d, err := time.ParseDuration(*in.Advance)
		if err != nil {
			return simCommand{}, fmt.Errorf("advance %q is not a Go duration like 25h or 90m: %w", *in.Advance, err)
		}
		if d < 0 {
			return simCommand{}, fmt.Errorf("advance %q would move the clock backwards", *in.Advance)
		}
		return simCommand{advance: d}, nil
	case in.From != nil:
		customer, err := bot.ParseCustomerID(*in.From)
		if err != nil {
			return simCommand{}, fmt.Errorf("from: %w", err)
		}
		if (in.Text == nil) == (in.Button == nil) {
			return simCommand{}, errors.New(`a message needs exactly one of "text" and "button"`)
		}
		if in.ID != nil {
			if *in.ID == "" {
				return simCommand{}, errors.New(`"id" is empty`)
			}
			id = *in.ID
		}
		msg := &bot.Inbound{ID: id, Customer: customer}
		if in.Text != nil {
			msg.Text = *in.Text
		} else {
			if *in.Button == "" {
				return simCommand{}, errors.New(`"button" is empty`)
			}
			msg.ButtonID = *in.Button
		}
		return simCommand{inbound: msg}, nil
	case in.Release != nil:
		customer, err := bot.ParseCustomerID(in.Release.Customer)
		if err != nil {
			return simCommand{}, fmt.Errorf("release.customer: %w", err)
		}
		if in.Release.ID != "" {
			id = in.Release.ID
		}
		return simCommand{release: &bot.HandoffRelease{ID: id, Customer: customer,
			State: flows.StateName(in.Release.State), Agent: in.Release.Agent}}, nil
	case in.SendTemplate != nil:
		customer, err := bot.ParseCustomerID(in.SendTemplate.To)
		if err != nil {
			return simCommand{}, fmt.Errorf("send_template.to: %w", err)
		}
		if in.SendTemplate.Template == "" {
			return simCommand{}, errors.New("send_template.template is empty")
		}
		return simCommand{send: &bot.SendRequest{ID: id, Customer: customer, Kind: bot.KindTemplate,
			Template: in.SendTemplate.Template, Topic: flows.Topic(in.SendTemplate.Topic)}}, nil
	default:
		customer, err := bot.ParseCustomerID(in.SendText.To)
		if err != nil {
			return simCommand{}, fmt.Errorf("send_text.to: %w", err)
		}
		if strings.TrimSpace(in.SendText.Text) == "" {
			return simCommand{}, errors.New("send_text.text is empty")
		}
		return simCommand{send: &bot.SendRequest{ID: id, Customer: customer, Kind: bot.KindText, Text: in.SendText.Text}}, nil
	}
}

// Output is one line of simulate's output.
type Output struct {
	Type     string       `json:"type"`
	Line     int          `json:"line,omitempty"`
	Message  string       `json:"message,omitempty"`
	Customer string       `json:"customer,omitempty"`
	Text     string       `json:"text,omitempty"`
	Buttons  []bot.Button `json:"buttons,omitempty"`
	List     *bot.List    `json:"list,omitempty"`
	Topic    string       `json:"topic,omitempty"`
	Status   string       `json:"status,omitempty"`
	Source   string       `json:"source,omitempty"`
	Kind     string       `json:"kind,omitempty"`
	Reason   string       `json:"reason,omitempty"`
	// The handoff lines: the agents' queue, the state handed off from, the
	// state the bot resumes (or resumed) in and when it will at the latest,
	// and a forwarded message's tapped button.
	Queue  string `json:"queue,omitempty"`
	State  string `json:"state,omitempty"`
	Resume string `json:"resume,omitempty"`
	Until  string `json:"until,omitempty"`
	Button string `json:"button,omitempty"`
	Agent  string `json:"agent,omitempty"`
}

// Simulator runs one flow on an in-memory store with a clock it moves
// itself: the engine without NATS, for scripts and tests.
type Simulator struct {
	now      time.Time
	svc      *bot.Service
	store    *memstore.Store // what svc commits to; flowtests read sessions from it
	business bot.BusinessID
}

// NewSimulator builds a Simulator for a loaded flow; src is its file bytes.
func NewSimulator(ctx context.Context, flow *flows.Flow, src []byte, log zerolog.Logger) (*Simulator, error) {
	sim := &Simulator{now: SimulationStart, store: memstore.New(memstore.WithoutOutbox()), business: BusinessSlug(flow)}
	svc, err := bot.NewService(ctx, bot.ServiceConfig{
		Store:  sim.store,
		Clock:  func() time.Time { return sim.now },
		Logger: log,
	}, []bot.BusinessConfig{{ID: sim.business, Flow: flow, Source: src,
		Senders: []string{simulatedSender, NumberedSender}, NumberedSenders: []string{NumberedSender}}})
	if err != nil {
		return nil, err
	}
	sim.svc = svc
	return sim, nil
}

func (sim *Simulator) Run(ctx context.Context, in io.Reader, out io.Writer) error {
	w := bufio.NewWriter(out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		for _, o := range sim.Step(ctx, line, lineNo) {
			if err := enc.Encode(o); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
		// Flush per line so a script driving simulate interactively sees answers.
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read input line %d: %w", lineNo+1, err)
	}
	return nil
}

// Advance moves the clock forward by d, firing every flow timer that falls
// due on the way at its own due time, and returns their effects in order.
func (sim *Simulator) Advance(ctx context.Context, d time.Duration) ([]bot.Effect, error) {
	target := sim.now.Add(d)
	var effects []bot.Effect
	for {
		due, err := sim.store.DueTimers(ctx, target.Add(time.Microsecond), 1)
		if err != nil {
			return effects, err
		}
		if len(due) == 0 {
			break
		}
		if due[0].Timer.Due.After(sim.now) {
			sim.now = due[0].Timer.Due
		}
		fired, err := sim.svc.HandleTimer(ctx, due[0])
		if err != nil {
			return effects, err
		}
		// Firing (or dropping a stale timer) removes it from the store, so
		// the loop moves on even when a timer sends nothing.
		effects = append(effects, fired...)
	}
	sim.now = target
	return effects, nil
}

// Step runs one input line and returns its output lines.
func (sim *Simulator) Step(ctx context.Context, line []byte, lineNo int) []Output {
	cmd, err := ParseLine(line, lineNo)
	if err != nil {
		return []Output{{Type: "error", Line: lineNo, Message: err.Error()}}
	}
	var effects []bot.Effect
	switch {
	case cmd.inbound != nil:
		cmd.inbound.Timestamp = sim.now
		effects, err = sim.svc.HandleInbound(ctx, *cmd.inbound)
	case cmd.send != nil:
		effects, err = sim.svc.HandleSendRequest(ctx, *cmd.send)
	case cmd.release != nil:
		cmd.release.Business = sim.business
		effects, err = sim.svc.HandleHandoffRelease(ctx, *cmd.release)
	default:
		effects, err = sim.Advance(ctx, cmd.advance)
	}
	if err != nil {
		return []Output{{Type: "error", Line: lineNo, Message: err.Error()}}
	}
	out := make([]Output, 0, len(effects))
	for _, e := range effects {
		out = append(out, effectLine(e))
	}
	return out
}

func effectLine(e bot.Effect) Output {
	o := Output{Customer: string(e.Customer)}
	switch e.Kind {
	case bot.EffectConsent:
		o.Type, o.Topic, o.Status, o.Source = "consent", string(e.Consent.Topic), string(e.Consent.Status), string(e.Consent.Source)
	case bot.EffectRefused:
		o.Type, o.Kind, o.Reason = "refused", string(e.Refusal.Kind), string(e.Refusal.Reason)
	case bot.EffectMessage:
		if e.RequestID != "" {
			o.Type, o.Kind = "sent", string(e.Message.Kind)
		} else {
			o.Type, o.Text, o.Buttons, o.List = "reply", e.Message.Text, e.Message.Buttons, e.Message.List
		}
	case bot.EffectHandoff:
		h := e.Handoff
		o.Type, o.Queue, o.State, o.Resume, o.Until = "handoff", h.Queue, h.State, h.Resume, timeText(h.Until)
	case bot.EffectHandoffMessage:
		m := e.HandoffMessage
		o.Type, o.Queue, o.Text, o.Button, o.Until = "handoff_message", m.Queue, m.Text, m.ButtonID, timeText(m.Until)
	case bot.EffectHandoffEnded:
		x := e.HandoffEnded
		o.Type, o.Queue, o.Reason, o.Resume, o.Agent = "handoff_ended", x.Queue, string(x.Reason), x.Resume, x.Agent
	default:
		// An effect simulate has no line of its own for still says what it
		// is.
		o.Type = string(e.Kind)
	}
	return o
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// seedVars gives a customer variables before their first message, as an
// earlier conversation would have (the engine keeps them across
// conversations).
func (sim *Simulator) seedVars(ctx context.Context, customer bot.CustomerID, vars map[string]string) error {
	conv := bot.Conversation{Vars: make(map[string]string, len(vars))}
	for k, v := range vars {
		conv.Vars[k] = v
	}
	return sim.store.Commit(ctx, bot.Turn{Business: sim.business, Customer: customer, Conversation: conv, At: sim.now})
}
