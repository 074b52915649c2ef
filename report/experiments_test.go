package report_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/report"
	"github.com/optinbot/optinbot/store/memstore"
	"github.com/optinbot/optinbot/store/sqlstore"
	"github.com/optinbot/optinbot/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata")

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type seedStore interface {
	report.ExperimentStore
	bot.Store
}

// seeder commits turns the way the engine does: the ask with the prompt,
// the opt-in with the variant in its trigger, later STOPs.
type seeder struct {
	t  *testing.T
	s  seedStore
	id int
}

func (sd *seeder) commit(c bot.CustomerID, at time.Time, asks []bot.PromptAsk, events ...bot.ConsentEvent) {
	sd.t.Helper()
	sd.id++
	dedup := fmt.Sprintf("in:test:%d", sd.id)
	for i := range events {
		events[i].ID = fmt.Sprintf("acme/%s/%d", dedup, i)
		events[i].Business, events[i].Customer, events[i].Channel, events[i].At = "acme", c, bot.Channel, at
		events[i].Category, events[i].FlowName, events[i].FlowVersion = flows.CategoryMarketing, "news", "v1"
		events[i].Prompt, events[i].InboundText = "prompt", "yes"
	}
	err := sd.s.Commit(context.Background(), bot.Turn{Business: "acme", Customer: c, DedupID: dedup, At: at,
		Conversation: bot.Conversation{FlowName: "news", FlowVersion: "v1", State: "welcome"}, Asks: asks, Consent: events})
	if err != nil {
		sd.t.Fatal(err)
	}
}

func ask(state flows.StateName, variant string, at time.Time) []bot.PromptAsk {
	return []bot.PromptAsk{{Flow: "news", FlowVersion: "v1", State: state, Variant: variant, At: at}}
}

func yes(state flows.StateName, variant string) bot.ConsentEvent {
	return bot.ConsentEvent{Topic: "news", Status: bot.OptedIn, Source: bot.SourceInChannel,
		Trigger: bot.ExperimentTrigger("keyword yes", state, variant)}
}

func stop(source bot.Source) bot.ConsentEvent {
	return bot.ConsentEvent{Topic: "news", Status: bot.OptedOut, Source: source, Trigger: "keyword STOP"}
}

// seed: state welcome, control asked 40 (12 YES, 2 STOP within 7 days, 1
// after 8 days, 1 blocked), short asked 40 (20 YES, 1 STOP, asked twice
// each), plus one ask before the report's start and one YES of a variant
// the customer was never asked; state again, one variant asked, none yes.
func seed(t *testing.T, s seedStore) {
	sd := &seeder{t: t, s: s}
	for i := range 40 {
		c := bot.CustomerID(fmt.Sprintf("+1415555%04d", i))
		at := t0.Add(time.Duration(i) * time.Minute)
		sd.commit(c, at, ask("welcome", "control", at))
		if i < 12 {
			sd.commit(c, at.Add(time.Minute), nil, yes("welcome", "control"))
		}
		switch i {
		case 0, 1:
			sd.commit(c, at.Add(48*time.Hour), nil, stop(bot.SourceInChannel))
		case 2:
			sd.commit(c, at.Add(8*24*time.Hour), nil, stop(bot.SourceInChannel))
		case 3:
			sd.commit(c, at.Add(time.Hour), nil, stop(bot.SourceProvider))
		}
	}
	for i := range 40 {
		c := bot.CustomerID(fmt.Sprintf("+1415666%04d", i))
		at := t0.Add(time.Duration(i) * time.Minute)
		sd.commit(c, at, ask("welcome", "short", at))
		sd.commit(c, at.Add(time.Minute), ask("welcome", "short", at.Add(time.Minute)))
		if i < 20 {
			sd.commit(c, at.Add(2*time.Minute), nil, yes("welcome", "short"))
		}
		if i == 0 {
			sd.commit(c, at.Add(time.Hour), nil, stop(bot.SourceInChannel))
		}
	}
	sd.commit("+14157770000", t0.Add(-time.Hour), ask("welcome", "short", t0.Add(-time.Hour)))
	sd.commit("+14157770001", t0, ask("welcome", "control", t0), yes("welcome", "short"))
	sd.commit("+14157770002", t0, ask("again", "b", t0))
}

func TestExperimentsGolden(t *testing.T) {
	stores := map[string]func(t *testing.T) seedStore{
		"memstore": func(*testing.T) seedStore { return memstore.New() },
		"sqlite": func(t *testing.T) seedStore {
			return openSQL(t, "sqlite:"+filepath.Join(t.TempDir(), "optinbot.db"))
		},
		"postgres": func(t *testing.T) seedStore { return openSQL(t, storetest.PostgresDSN(t)) },
	}
	for _, name := range []string{"memstore", "sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			s := stores[name](t)
			seed(t, s)
			rep, err := report.Experiments(context.Background(), s, report.ExperimentQuery{
				Business: "acme", Since: t0, Order: map[string][]string{"news/welcome": {"control", "short"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			var table, js bytes.Buffer
			if err := rep.WriteTable(&table); err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, "experiments.golden", table.Bytes())
			golden(t, "experiments.json.golden", js.Bytes())
		})
	}
}

func openSQL(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
