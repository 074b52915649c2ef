package compliance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// GrantNeedsFreshEvidence (P5): a consent grant from outside the chat (a
// topic's granted_by) is recorded only when its wording says WhatsApp,
// names the business and describes the topic; after the customer's STOP
// or opt-out of the topic, only when its evidence is newer; and never
// after the provider reported a stop (Twilio 21610, Meta 131050), which
// only the customer undoes, by writing in the chat.
const GrantNeedsFreshEvidence Property = "P5"

var grantCheck = nodeCheck{
	property: GrantNeedsFreshEvidence,
	title:    "a grant never re-opens consent unless newer than the STOP and explicit",
	check:    checkGrants,
}

// grantProbe is one consent grant the explorer tries, and why it must be
// refused.
type grantProbe struct {
	topic   flows.TopicDef
	source  bot.Source
	wording string
	// after is what happens just before the grant: "" nothing,
	// "provider" a provider stop of every message, "marketing" a
	// marketing stop in WhatsApp.
	after string
	// older dates the grant a minute before the customer's standing stop
	// of the topic; otherwise it is dated now.
	older bool
	why   string
}

// checkGrants tries, at each node whose consent and STOP were not tried
// yet, for each topic other sources may grant: a grant worded without
// WhatsApp or the business, one worded without the topic, one older than
// the customer's stop (when one stands), and explicit ones right after a
// provider stop of everything and, for marketing topics, of marketing.
func checkGrants(x *explorer, n *node) (*finding, error) {
	var topics []flows.TopicDef
	for _, t := range x.f.Topics {
		if len(t.GrantedBy) > 0 {
			topics = append(topics, t)
		}
	}
	if len(topics) == 0 {
		return nil, nil
	}
	key := "p5" + grantKey(x, n.sess)
	if x.probed == nil {
		x.probed = map[string]bool{}
	}
	if x.probed[key] {
		return nil, nil
	}
	x.probed[key] = true
	for _, t := range topics {
		for _, p := range grantProbes(x.f, n.sess, t) {
			msg, err := x.tryGrant(x.walkerAt(n), p)
			if err != nil {
				return nil, err
			}
			if msg != "" {
				pos := t.Pos
				return &finding{message: msg, at: &pos, check: func(w *walker) (string, error) { return x.tryGrant(w, p) }}, nil
			}
		}
	}
	return nil, nil
}

// grantKey is what decides a grant's outcome: each topic's latest consent
// and its source, and the standing STOP.
func grantKey(x *explorer, sess bot.Session) string {
	var b strings.Builder
	for _, t := range x.topics(sess) {
		l := sess.Latest[t]
		fmt.Fprintf(&b, "|%s=%s/%s", t, l.Status, l.Source)
	}
	if s := sess.Conversation.Stop; s != nil {
		fmt.Fprintf(&b, "|stop:%t", s.ByProvider)
	}
	return b.String()
}

// grantProbes lists the grants of topic t to try in a session.
func grantProbes(f *flows.Flow, sess bot.Session, t flows.TopicDef) []grantProbe {
	source := bot.Source(t.GrantedBy[0])
	what := bot.DescriptionCore(t.Description)
	explicit := fmt.Sprintf("Yes, send me %s from %s on WhatsApp. Reply STOP to opt out.", what, f.Business)
	var out []grantProbe
	if vague := "Imported from our SMS list: " + what; !saysLiterally(vague, "whatsapp") && !saysLiterally(vague, f.Business) {
		out = append(out, grantProbe{topic: t, source: source, wording: vague,
			why: "its wording neither says WhatsApp nor names the business: an SMS consent is no WhatsApp consent"})
	}
	if bare := f.Business + " on WhatsApp"; !describesLiterally(bare, t) {
		why := fmt.Sprintf("its wording does not describe topic %s", t.Name)
		if bot.Normalize(t.Description) == "" && len(t.Aliases) == 0 {
			why += fmt.Sprintf(": the topic's description %q has no words a wording can be checked against; give it a description in words, or aliases", t.Description)
		}
		out = append(out, grantProbe{topic: t, source: source, wording: bare, why: why})
	}
	if _, stopped := stopOf(sess, t.Name); stopped {
		out = append(out, grantProbe{topic: t, source: source, wording: explicit, older: true,
			why: "the customer's stop of the topic is newer than the grant's evidence"})
	}
	out = append(out, grantProbe{topic: t, source: source, wording: explicit, after: "provider",
		why: "the provider had reported that the customer stopped every message, which only the customer undoes, in the chat"})
	if t.Category == flows.CategoryMarketing {
		out = append(out, grantProbe{topic: t, source: source, wording: explicit, after: "marketing",
			why: "the provider had reported that the customer stopped marketing messages in WhatsApp, which only the customer undoes, in the chat"})
	}
	return out
}

// stopOf returns when the customer's stop of a topic was recorded, when
// one stands: a standing STOP, or the topic's latest event an opt-out.
func stopOf(sess bot.Session, topic flows.Topic) (time.Time, bool) {
	var at time.Time
	stopped := false
	if s := sess.Conversation.Stop; s != nil {
		at, stopped = s.At, true
	}
	if l, ok := sess.Latest[topic]; ok && l.Status == bot.OptedOut {
		stopped = true
		if l.At.After(at) {
			at = l.At
		}
	}
	return at, stopped && !at.IsZero()
}

// tryGrant runs a grant probe on a walker and returns what is wrong if the
// grant was recorded.
func (x *explorer) tryGrant(w *walker, p grantProbe) (string, error) {
	switch p.after {
	case "provider":
		id := x.probeID("p5-provider")
		if _, err := w.call("provider: the customer opted out of every message (as Twilio 21610)",
			func(ctx context.Context) ([]bot.Effect, error) { return w.e.providerStop(ctx, id) }); err != nil {
			return "", err
		}
	case "marketing":
		id := x.probeID("p5-marketing")
		if _, err := w.call("provider: the customer stopped marketing messages in WhatsApp (as Meta 131050)",
			func(ctx context.Context) ([]bot.Effect, error) { return w.e.marketingStop(ctx, id) }); err != nil {
			return "", err
		}
	}
	if p.after != "" {
		if err := w.wait(time.Minute); err != nil {
			return "", err
		}
	}
	at := w.e.now
	if p.older {
		stoppedAt, ok := stopOf(w.sess, p.topic.Name)
		if !ok {
			return "", nil
		}
		at = stoppedAt.Add(-time.Minute)
	}
	g := bot.ConsentGrant{ID: x.probeID("p5-grant"), Topic: p.topic.Name, Source: p.source, Wording: p.wording, At: at}
	effects, err := w.call(fmt.Sprintf("grant: %s from %s, worded %s, agreed at %s", g.Topic, g.Source, quoted(g.Wording), at.UTC().Format(time.RFC3339)),
		func(ctx context.Context) ([]bot.Effect, error) { return w.e.grant(ctx, g) })
	if err != nil {
		return "", err
	}
	if !slices.Contains(optedIn(effects), p.topic.Name) {
		return "", nil
	}
	return fmt.Sprintf("a grant of topic %s from %s worded %s was recorded, though %s", p.topic.Name, p.source, quoted(p.wording), p.why), nil
}

// saysLiterally reports whether a text holds a phrase as whole words
// after normalisation; a phrase with no words is never said.
func saysLiterally(text, phrase string) bool {
	return bot.HasPhrase(bot.Normalize(text), bot.Normalize(phrase))
}

// describesLiterally reports whether a text holds one of the topic's
// descriptions (or their part outside parentheses) or aliases as words.
// Unlike the engine's check, a description of emoji alone describes
// nothing: the probe wants to know what the text really says.
func describesLiterally(text string, t flows.TopicDef) bool {
	phrases := append([]string{t.Description}, t.Aliases...)
	for _, d := range t.DescriptionVariants {
		phrases = append(phrases, d)
	}
	return slices.ContainsFunc(phrases, func(p string) bool {
		return saysLiterally(text, p) || saysLiterally(text, bot.DescriptionCore(p))
	})
}
