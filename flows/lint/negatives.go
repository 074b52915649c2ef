package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// maxNegativeExamples is how many of the negative answers a transition
// takes an OB012 message quotes.
const maxNegativeExamples = 5

// negativeOptIns checks that no negative answer (flows.NegativeAnswers, of
// every language) takes a keyword or regex transition with opt_in, as the
// engine matches a message to a state's transitions (OB012). An else
// transition with opt_in is OB011's, a keyword that is a global keyword
// OB006's; a button alone never matches typed text.
func (c *checker) negativeOptIns() {
	m, err := bot.Compile(c.f, c.kw.Polite())
	if err != nil {
		return // a flow that loads compiles; nothing to check otherwise
	}
	negatives := flows.AllNegativeAnswers()
	for _, name := range c.f.StateOrder {
		st := c.f.States[name]
		if !slices.ContainsFunc(st.On, func(t flows.Transition) bool { return t.OptIn != "" && !t.Else }) {
			continue
		}
		// The negatives each trigger takes, in the order first met.
		type site struct {
			index   int
			trigger string
		}
		var sites []site
		taken := map[site][]string{}
		for _, neg := range negatives {
			t, i, trigger := m.MatchText(name, neg.Text)
			if t == nil || t.OptIn == "" || t.Else {
				continue
			}
			s := site{i, trigger}
			if _, ok := taken[s]; !ok {
				sites = append(sites, s)
			}
			taken[s] = append(taken[s], neg.Text)
		}
		for _, s := range sites {
			t := &st.On[s.index]
			where := fmt.Sprintf("transition %d of state %s", s.index+1, quote(string(name)))
			pos := c.loc.pos(t.Pos, "states", string(name), "on", s.index, "opt_in")
			what, fix := "", ""
			switch kind, value, _ := strings.Cut(s.trigger, " "); kind {
			case "keyword":
				if c.kw.Match(value).Kind != bot.KeywordNone {
					continue // a global keyword: OB006 says it never reaches the flow
				}
				if k := slices.Index(t.Keywords, value); k >= 0 {
					pos = c.loc.pos(t.Pos, "states", string(name), "on", s.index, "keywords", k)
				}
				what = "keyword " + quote(value) + " of " + where
				fix = "remove it, and keep only keywords that mean yes"
			case "regex":
				pos = c.loc.pos(t.Pos, "states", string(name), "on", s.index, "regex")
				what = "regex /" + t.Regex.String() + "/ of " + where
				fix = `anchor it to the words that mean yes, as in (?i)^\s*(yes|y)\s*!*$`
			default:
				what = s.trigger + " of " + where
				fix = "record opt_in only on a button or on keywords that mean yes"
			}
			c.add(pos, CodeNegativeOptIn, Error,
				"%s records opt_in %s on answers that are no yes: it takes %s; %s",
				what, quote(string(t.OptIn)), quoteAnswers(taken[s]), fix)
		}
	}
}

// quoteAnswers quotes the first few answers and says how many more there are.
func quoteAnswers(answers []string) string {
	n := min(len(answers), maxNegativeExamples)
	quoted := make([]string, n)
	for i, a := range answers[:n] {
		quoted[i] = quote(a)
	}
	s := strings.Join(quoted, ", ")
	if more := len(answers) - n; more > 0 {
		s += fmt.Sprintf(" and %d more negative answers", more)
	}
	return s
}
