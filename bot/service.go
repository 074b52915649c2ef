package bot

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/flows"
)

// Observer is told about every committed turn, e.g. to count messages,
// refusals and consent changes. It is called from many goroutines at once
// and must not block.
type Observer interface {
	ObserveTurn(input InputKind, turn Turn, elapsed time.Duration)
}

// InputKind names the kind of input a turn answered.
type InputKind string

const (
	InputInbound        InputKind = "inbound"
	InputSendRequest    InputKind = "send_request"
	InputProviderOptOut InputKind = "provider_opt_out"
)

// ServiceConfig holds a Service's explicit dependencies.
type ServiceConfig struct {
	Store  Store
	Clock  func() time.Time // nil means time.Now; tests and simulate inject their own
	Logger zerolog.Logger
	// Observer, optional, sees every committed turn.
	Observer Observer
	// AfterCommit, optional, is called after each committed turn that has
	// effects, e.g. to wake the outbox publisher. It must not block.
	AfterCommit func()
	// SuppressionKey keys the customer hashes of the suppression list
	// (CustomerHash): at least MinSuppressionKey bytes, the same for every
	// instance of a deployment. Without one (or with a Store that is no
	// CustomerEraser) the Service erases no customer and checks no list.
	SuppressionKey []byte
	// Verifications, optional, keeps sign-up verifications; nil means the
	// Store when it is a VerificationStore.
	Verifications VerificationStore
	// VerificationCode, for tests and documentation examples only, makes
	// the sign-up verification codes; nil means NewVerificationCode.
	VerificationCode func() string
}

// BusinessConfig describes one business the Service serves.
type BusinessConfig struct {
	ID   BusinessID
	Flow *flows.Flow
	// Source is the flow file's bytes: saved in the store so that a
	// conversation stays on the version it started with after the file
	// changes.
	Source []byte
	// Senders are the business's addresses customers write to (Meta
	// phone_number_id, Twilio number…), used to route inbound messages.
	// The first one sends business-initiated messages that name none.
	Senders []string
	// Keywords overrides the flow's keyword lists per language.
	Keywords map[string]flows.KeywordSet
	Caps     Caps
	// NumberedSenders are the senders whose channel shows a prompt's
	// buttons and list rows as numbered lines ("1) Yes"), such as Twilio's
	// text messages: a customer writing to one may answer with the
	// number. Elsewhere a bare number picks a choice only where the
	// prompt's text numbers its choices itself.
	NumberedSenders []string
}

// Service runs turns: it loads a customer's session, applies the input with
// the engine's pure step, and commits the outcome in one transaction. It is
// safe for concurrent use; turns of one customer run one at a time.
type Service struct {
	store       Store
	clock       func() time.Time
	log         zerolog.Logger
	observer    Observer
	afterCommit func()
	// verifications is nil when no store keeps them: no sign-up
	// verification then.
	verifications VerificationStore
	newCode       func() string

	eraser         CustomerEraser // nil: the store keeps no suppression list
	suppressionKey []byte

	businesses map[BusinessID]*Business
	senders    map[string]BusinessID

	locks    [128]sync.Mutex // striped per (business, customer)
	machines sync.Map        // "name@version" -> *Machine
}

// NewService builds the businesses' machines and saves their flow sources.
func NewService(ctx context.Context, cfg ServiceConfig, businesses []BusinessConfig) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("new service: a store is required")
	}
	if len(businesses) == 0 {
		return nil, errors.New("new service: at least one business is required")
	}
	s := &Service{
		store: cfg.Store, clock: cfg.Clock, log: cfg.Logger, observer: cfg.Observer, afterCommit: cfg.AfterCommit,
		businesses: make(map[BusinessID]*Business), senders: make(map[string]BusinessID),
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if n := len(cfg.SuppressionKey); n > 0 && n < MinSuppressionKey {
		return nil, fmt.Errorf("new service: the suppression key has %d bytes, want at least %d", n, MinSuppressionKey)
	}
	s.eraser, _ = cfg.Store.(CustomerEraser)
	s.suppressionKey = cfg.SuppressionKey
	s.verifications, s.newCode = cfg.Verifications, cfg.VerificationCode
	if s.newCode == nil {
		s.newCode = NewVerificationCode
	}
	if vs, ok := cfg.Store.(VerificationStore); ok && s.verifications == nil {
		s.verifications = vs
	}
	for _, bc := range businesses {
		if bc.ID == "" || bc.Flow == nil {
			return nil, fmt.Errorf("new service: business %q needs an id and a flow", bc.ID)
		}
		if _, dup := s.businesses[bc.ID]; dup {
			return nil, fmt.Errorf("new service: business %q is configured twice", bc.ID)
		}
		kw := NewKeywords(bc.Flow.Language, withLanguages(mergeKeywordSets(bc.Flow.Keywords, bc.Keywords), bc.Flow.Languages))
		m, err := Compile(bc.Flow, kw.Polite())
		if err != nil {
			return nil, fmt.Errorf("new service: business %q: %w", bc.ID, err)
		}
		s.machines.Store(machineKey(bc.Flow.Name, bc.Flow.Version), m)
		biz := &Business{ID: bc.ID, Machine: m, Keywords: kw, Caps: withTopicCaps(bc.Caps, bc.Flow)}
		for _, sender := range bc.NumberedSenders {
			if !slices.Contains(bc.Senders, sender) {
				return nil, fmt.Errorf("new service: business %q: numbered sender %q is not one of its senders", bc.ID, sender)
			}
			if biz.NumberedSenders == nil {
				biz.NumberedSenders = map[string]bool{}
			}
			biz.NumberedSenders[sender] = true
		}
		if len(bc.Senders) > 0 {
			biz.DefaultSender = bc.Senders[0]
		}
		s.businesses[bc.ID] = biz
		for _, sender := range bc.Senders {
			if other, dup := s.senders[sender]; dup {
				return nil, fmt.Errorf("new service: sender %q is claimed by businesses %q and %q", sender, other, bc.ID)
			}
			s.senders[sender] = bc.ID
		}
		if len(bc.Source) > 0 {
			if err := s.store.SaveFlowSource(ctx, bc.Flow.Name, bc.Flow.Version, bc.Source); err != nil {
				return nil, fmt.Errorf("new service: business %q: save flow %s@%s: %w", bc.ID, bc.Flow.Name, bc.Flow.Version, err)
			}
		}
	}
	return s, nil
}

// mergeKeywordSets lays per-language overrides from the config over the
// flow's own lists.
func mergeKeywordSets(flow, override map[string]flows.KeywordSet) map[string]flows.KeywordSet {
	out := make(map[string]flows.KeywordSet, len(flow)+len(override))
	for lang, set := range flow {
		out[lang] = set
	}
	for lang, o := range override {
		set := out[lang]
		if o.OptOut != nil {
			set.OptOut = o.OptOut
		}
		if o.OptIn != nil {
			set.OptIn = o.OptIn
		}
		if o.Help != nil {
			set.Help = o.Help
		}
		if o.Polite != nil {
			set.Polite = o.Polite
		}
		out[lang] = set
	}
	return out
}

// withTopicCaps adds the flow's per-topic frequency caps to the business's,
// where the configuration sets none of its own.
func withTopicCaps(c Caps, f *flows.Flow) Caps {
	out := Caps{TemplatesPerDay: c.TemplatesPerDay, PerTopic: make(map[flows.Topic]int, len(c.PerTopic))}
	for t, n := range c.PerTopic {
		out.PerTopic[t] = n
	}
	for _, t := range f.Topics {
		if _, set := out.PerTopic[t.Name]; !set && t.FrequencyCap > 0 {
			out.PerTopic[t.Name] = t.FrequencyCap
		}
	}
	return out
}

// withLanguages makes every language the flow writes prompts in an active
// keyword language (with its default lists unless configured), so a
// Spanish-speaking customer's ALTO works in a flow with Spanish prompts.
func withLanguages(sets map[string]flows.KeywordSet, languages []string) map[string]flows.KeywordSet {
	for _, lang := range languages {
		if _, ok := sets[lang]; !ok {
			sets[lang] = flows.KeywordSet{}
		}
	}
	return sets
}

func machineKey(name, version string) string { return name + "@" + version }

// Business returns a configured business.
func (s *Service) Business(id BusinessID) (*Business, bool) {
	b, ok := s.businesses[id]
	return b, ok
}

// resolve finds the business an input is for: by id, else by the sender
// address, else the only business there is.
func (s *Service) resolve(id BusinessID, sender string) (*Business, error) {
	if id == "" {
		if byID, ok := s.senders[sender]; ok {
			id = byID
		} else if len(s.businesses) == 1 && sender == "" {
			for only := range s.businesses {
				id = only
			}
		} else {
			return nil, fmt.Errorf("no business is configured for sender %q: %w", sender, ErrBadInput)
		}
	}
	b, ok := s.businesses[id]
	if !ok {
		return nil, fmt.Errorf("business %q is not configured: %w", id, ErrBadInput)
	}
	return b, nil
}

func (s *Service) lock(b BusinessID, c CustomerID) func() {
	h := fnv.New32a()
	h.Write([]byte(b))
	h.Write([]byte{0})
	h.Write([]byte(c))
	mu := &s.locks[h.Sum32()%uint32(len(s.locks))]
	mu.Lock()
	return mu.Unlock
}

// HandleInbound runs one turn for a customer's message and returns the
// committed effects. A message id already processed returns no effects and
// no error: a redelivery changes nothing.
func (s *Service) HandleInbound(ctx context.Context, in Inbound) ([]Effect, error) {
	biz, err := s.resolve(in.Business, in.Sender)
	if err != nil {
		return nil, fmt.Errorf("inbound message %q: %w", in.ID, err)
	}
	in.Business = biz.ID
	in.Text, in.ButtonTitle = cleanText(in.Text), cleanText(in.ButtonTitle)
	if in.ID == "" {
		return nil, fmt.Errorf("inbound message for business %q has no id: %w", biz.ID, ErrBadInput)
	}
	if !in.Customer.wellFormed() {
		return nil, fmt.Errorf("inbound message %q: customer id %s is neither an E.164 number nor a WhatsApp user id: %w", in.ID, in.Customer.Redacted(), ErrBadInput)
	}
	// A message committed before dedup ids named the provider and the
	// customer is known by its message id alone. Such ids are no longer
	// written, so reading them outside the customer's lock is safe.
	legacy, err := s.store.Processed(ctx, biz.ID, LegacyDedupID(in.ID))
	if err != nil {
		return nil, fmt.Errorf("inbound message %q: check redelivery: %w", in.ID, err)
	}
	if legacy {
		s.log.Debug().Str("business", string(biz.ID)).Str("id", in.ID).Msg("redelivered input ignored (processed before dedup ids named the customer)")
		return nil, nil
	}
	handled := false
	effects, err := s.run(ctx, biz, in.Customer, InputInbound, DedupID(InputInbound, in.Provider, in.Customer, in.ID), func(sess *Session, now time.Time) (Turn, error) {
		handled = true
		if turn, ok, err := s.confirmInChat(ctx, biz, sess, in, now); ok || err != nil {
			return turn, err
		}
		return biz.HandleInbound(s.conversationMachine(ctx, biz, sess.Conversation), sess, in, now), nil
	})
	if err == nil && handled {
		s.logProviderErrors(biz.ID, in)
	}
	return effects, err
}

// logProviderErrors logs, at info level, each error the provider reported
// with a customer's message (Meta's 131051 "Unsupported message type"…): its
// code and title, never the customer's number unredacted, any text, or the
// message id (a Meta wamid encodes the customer's number).
func (s *Service) logProviderErrors(business BusinessID, in Inbound) {
	for _, e := range in.ProviderErrors {
		s.log.Info().Str("business", string(business)).Str("customer", in.Customer.Redacted()).
			Str("provider", in.Provider).Bool("unsupported", in.Unsupported).
			Str("code", e.Code).Str("title", e.Title).Msg("inbound message with a provider error")
	}
}

// HandleSendRequest runs one turn for a business's send request: the
// effects hold the message to send, or the guard's refusal.
func (s *Service) HandleSendRequest(ctx context.Context, r SendRequest) ([]Effect, error) {
	biz, err := s.resolve(r.Business, r.Sender)
	if err != nil {
		return nil, fmt.Errorf("send request %q: %w", r.ID, err)
	}
	if r.ID == "" {
		return nil, fmt.Errorf("send request for business %q has no id: %w", biz.ID, ErrBadInput)
	}
	if r.Sender == "" {
		r.Sender = biz.DefaultSender
	}
	if !r.Customer.wellFormed() {
		return nil, fmt.Errorf("send request %q: customer id %s is neither an E.164 number nor a WhatsApp user id: %w", r.ID, r.Customer.Redacted(), ErrBadInput)
	}
	return s.run(ctx, biz, r.Customer, InputSendRequest, DedupID(InputSendRequest, "", r.Customer, r.ID), func(sess *Session, now time.Time) (Turn, error) {
		return biz.HandleSendRequest(sess, r, now)
	})
}

// HandleProviderOptOut records a stop the provider reported.
func (s *Service) HandleProviderOptOut(ctx context.Context, o ProviderOptOut) ([]Effect, error) {
	biz, err := s.resolve(o.Business, o.Sender)
	if err != nil {
		return nil, fmt.Errorf("provider opt-out %q: %w", o.ID, err)
	}
	if o.ID == "" {
		return nil, fmt.Errorf("provider opt-out for business %q has no id: %w", biz.ID, ErrBadInput)
	}
	if !o.Customer.wellFormed() {
		return nil, fmt.Errorf("provider opt-out %q: customer id %s is neither an E.164 number nor a WhatsApp user id: %w", o.ID, o.Customer.Redacted(), ErrBadInput)
	}
	return s.run(ctx, biz, o.Customer, InputProviderOptOut, DedupID(InputProviderOptOut, "", o.Customer, o.ID), func(sess *Session, now time.Time) (Turn, error) {
		return biz.HandleProviderOptOut(sess, o, now), nil
	})
}

func (s *Service) run(ctx context.Context, biz *Business, customer CustomerID, kind InputKind, dedupID string,
	step func(*Session, time.Time) (Turn, error)) ([]Effect, error) {
	unlock := s.lock(biz.ID, customer)
	defer unlock()
	return s.runLocked(ctx, biz, customer, kind, dedupID, step)
}

// runLocked is run for a caller that holds the customer's lock.
func (s *Service) runLocked(ctx context.Context, biz *Business, customer CustomerID, kind InputKind, dedupID string,
	step func(*Session, time.Time) (Turn, error)) ([]Effect, error) {
	log := s.log.With().Str("business", string(biz.ID)).Str("customer", customer.Redacted()).Str("input", string(kind)).Logger()

	seen, err := s.store.Processed(ctx, biz.ID, dedupID)
	if err != nil {
		return nil, fmt.Errorf("%s %q: check redelivery: %w", kind, dedupID, err)
	}
	if seen {
		log.Debug().Str("id", dedupID).Msg("redelivered input ignored")
		return nil, nil
	}
	start := s.clock()
	began := time.Now()
	sess, err := s.store.LoadSession(ctx, biz.ID, customer, start.Add(-ServiceWindow))
	if err != nil {
		return nil, fmt.Errorf("%s %q: load session: %w", kind, dedupID, err)
	}
	sess.Business, sess.Customer = biz.ID, customer
	suppressed, hash, err := s.suppressed(ctx, biz.ID, customer)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", kind, dedupID, err)
	}
	sess.Suppressed = suppressed
	turn, err := step(&sess, start)
	if err != nil {
		return nil, err
	}
	if suppressed && liftsSuppression(turn) {
		turn.Unsuppress = hash
		log.Info().Msg("suppression lifted: the customer opted in again in the chat")
	}
	if err := s.store.Commit(ctx, turn); err != nil {
		if errors.Is(err, ErrDuplicate) {
			log.Debug().Str("id", dedupID).Msg("redelivered input ignored at commit")
			return nil, nil
		}
		return nil, fmt.Errorf("%s %q: commit turn: %w", kind, dedupID, err)
	}
	elapsed := time.Since(began)
	if len(turn.Effects) > 0 && s.afterCommit != nil {
		s.afterCommit()
	}
	if s.observer != nil {
		s.observer.ObserveTurn(kind, turn, elapsed)
	}
	s.logTurn(log, turn)
	return turn.Effects, nil
}

func (s *Service) logTurn(log zerolog.Logger, turn Turn) {
	c := turn.Conversation
	for _, e := range turn.Effects {
		switch e.Kind {
		case EffectRefused:
			log.Info().Str("effect", e.ID).Str("kind", string(e.Refusal.Kind)).Str("reason", string(e.Refusal.Reason)).
				Str("template", e.Refusal.Template).Msg("guard refused a message")
		case EffectConsent:
			log.Info().Str("effect", e.ID).Str("topic", string(e.Consent.Topic)).Str("status", string(e.Consent.Status)).
				Str("source", string(e.Consent.Source)).Msg("consent changed")
		case EffectHandoff:
			log.Info().Str("effect", e.ID).Str("queue", e.Handoff.Queue).Time("until", e.Handoff.Until).Msg("handed off to agents")
		case EffectHandoffEnded:
			log.Info().Str("effect", e.ID).Str("queue", e.HandoffEnded.Queue).Str("reason", string(e.HandoffEnded.Reason)).
				Str("resume", e.HandoffEnded.Resume).Msg("handoff ended")
		case EffectNotice:
			if g := e.Notice.Grant; g != nil {
				// The detail names the grant, topic and times, never the
				// customer or the wording.
				log.Info().Str("effect", e.ID).Str("grant", g.ID).Str("topic", string(g.Topic)).Str("source", string(g.Source)).
					Str("reason", string(g.Reason)).Str("detail", e.Notice.Detail).Msg("consent grant refused")
			}
		}
	}
	log.Debug().Str("flow", c.FlowName).Str("version", c.FlowVersion).Str("state", string(c.State)).
		Int("effects", len(turn.Effects)).Msg("turn committed")
}

// machineFor returns the machine of the version the conversation is on,
// loading an older version's source from the store when the flow changed
// since the conversation began. nil means "start afresh on the current
// version" (no conversation, or its version is lost).
func (s *Service) machineFor(ctx context.Context, biz *Business, c Conversation) *Machine {
	if c.State == "" || c.FlowVersion == "" {
		return nil
	}
	if c.FlowName == biz.Machine.Flow.Name && c.FlowVersion == biz.Machine.Flow.Version {
		return biz.Machine
	}
	key := machineKey(c.FlowName, c.FlowVersion)
	if m, ok := s.machines.Load(key); ok {
		return m.(*Machine)
	}
	src, err := s.store.FlowSource(ctx, c.FlowName, c.FlowVersion)
	if err != nil {
		s.log.Warn().Err(err).Str("flow", key).Msg("conversation's flow version unavailable; restarting it on the current version")
		return nil
	}
	// Named like the original file so the loaded flow keeps its name.
	f, err := flows.Load(c.FlowName+".yaml", src)
	if err == nil {
		var m *Machine
		if m, err = Compile(f, biz.Keywords.Polite()); err == nil {
			s.machines.Store(key, m)
			return m
		}
	}
	s.log.Warn().Err(err).Str("flow", key).Msg("conversation's flow version no longer loads; restarting it on the current version")
	return nil
}

// cleanText makes a customer's text safe to store and compare: invalid
// UTF-8 becomes U+FFFD and NUL bytes go (PostgreSQL refuses both in text,
// and a message that can never be committed would be retried forever).
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}
