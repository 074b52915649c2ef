package compliance

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// nodeCheck is a property checked at every node on copies of it, like P3
// and P4, but kept in a file of its own: P5 (grant.go) and P8
// (fresh_yes.go).
type nodeCheck struct {
	property Property
	title    string
	// check runs the property's probes at node n, each on a copy of it
	// (x.walkerAt), and returns the finding of the first violation, or
	// nil. A finding's check repeats the violating probe on a walker that
	// stands at the node, for the replay on a fresh engine.
	check func(x *explorer, n *node) (*finding, error)
}

// nodeChecks are the properties checked by probeChecks, in report order.
var nodeChecks = []nodeCheck{grantCheck, freshYesCheck}

// probeChecks runs each nodeCheck not yet violated at a node.
func (x *explorer) probeChecks(n *node) error {
	for _, c := range nodeChecks {
		if _, done := x.found[c.property]; done {
			continue
		}
		f, err := c.check(x, n)
		if err != nil {
			return err
		}
		if f != nil {
			f.n = n
			x.report(c.property, f)
		}
	}
	return nil
}

// grant hands the engine a consent grant for the customer.
func (e *engine) grant(ctx context.Context, g bot.ConsentGrant) ([]bot.Effect, error) {
	g.Business, g.Customer = e.business, Customer
	return e.svc.HandleConsentGrant(ctx, g)
}

// providerStop is what Twilio's 21610 becomes: the provider reports that
// the customer stopped every message of the business.
func (e *engine) providerStop(ctx context.Context, id string) ([]bot.Effect, error) {
	return e.svc.HandleProviderOptOut(ctx, bot.ProviderOptOut{ID: id, Business: e.business, Customer: Customer,
		At: e.now, Reason: "21610 the customer opted out"})
}

// marketingStop is what Meta's 131050 and user_preferences stop become:
// the customer stopped the business's marketing messages in WhatsApp.
func (e *engine) marketingStop(ctx context.Context, id string) ([]bot.Effect, error) {
	return e.svc.HandleMarketingPreference(ctx, bot.MarketingPreference{ID: id, Business: e.business, Customer: Customer,
		Stop: true, At: e.now, Detail: "user_preferences stop"})
}

// call runs one engine call that is not a customer's message, logs what it
// was and what came of it, and reloads the session.
func (w *walker) call(what string, run func(ctx context.Context) ([]bot.Effect, error)) ([]bot.Effect, error) {
	w.log("%s", what)
	effects, err := run(w.x.ctx)
	if err != nil {
		return nil, err
	}
	w.logEffects(effects, false)
	for _, e := range effects {
		if e.Kind == bot.EffectNotice && e.Notice != nil && e.Notice.Grant != nil {
			w.log("grant refused: %s", e.Notice.Grant.Reason)
		}
	}
	if w.sess, err = w.e.session(w.x.ctx); err != nil {
		return nil, err
	}
	return effects, nil
}

// wait moves the clock by d, firing the timers due on the way.
func (w *walker) wait(d time.Duration) error {
	_, err := w.do(step{kind: stepWait, until: w.e.now.Add(d)})
	return err
}

// optedIn returns the topics the effects opted the customer in to.
func optedIn(effects []bot.Effect) []flows.Topic {
	var out []flows.Topic
	for _, e := range effects {
		if e.Kind == bot.EffectConsent && e.Consent != nil && e.Consent.Status == bot.OptedIn {
			out = append(out, e.Consent.Topic)
		}
	}
	return out
}

// probeID numbers the inputs of probes, which never become nodes: unique
// within an exploration, so no probe input is taken for a redelivery.
func (x *explorer) probeID(prefix string) string {
	x.probes++
	return prefix + "-" + strconv.Itoa(x.probes)
}

func quoted(s string) string { return fmt.Sprintf("%q", s) }
