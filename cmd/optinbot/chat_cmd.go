package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flowtests"
	"github.com/optinbot/optinbot/store/memstore"
)

func newChatCmd() *cobra.Command {
	var flowPath, as string
	cmd := &cobra.Command{
		Use:   "chat --flow FILE",
		Short: "Chat with any flow in the terminal, reloading it when the file changes",
		Long: `chat runs a flow in this process, on an in-memory store, with you as the
customer: the terminal chat of the demo on any flow. When the file changes
it is loaded again before your next message (a conversation under way stays
on the version it started with, as in production; STOP or an ended
conversation moves you to the new one). A file that does not load keeps the
last good version and prints its problems. Flow timers fire on time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if flowPath == "" {
				return &exitError{code: 2, err: fmt.Errorf("chat needs --flow FILE")}
			}
			customer, err := bot.ParseCustomerID(as)
			if err != nil {
				return fmt.Errorf("--as: %w", err)
			}
			lc := &localChat{path: flowPath, customer: customer, store: memstore.New(memstore.WithoutOutbox()), out: cmd.OutOrStdout(),
				log: zerolog.New(cmd.ErrOrStderr()).Level(zerolog.WarnLevel)}
			if err := lc.reload(cmd.Context(), true); err != nil {
				return &exitError{code: 2, err: err}
			}
			ctx, stop := context.WithCancel(cmd.Context())
			defer stop()
			go lc.fireTimers(ctx)
			c := &chat{transport: lc, in: cmd.InOrStdin(), out: cmd.OutOrStdout(), interactive: isTerminal(cmd.InOrStdin())}
			lc.printer = c
			return c.run(ctx)
		},
	}
	cmd.Flags().StringVar(&flowPath, "flow", "", "the flow file to chat with (required)")
	cmd.Flags().StringVar(&as, "as", "+14155550100", "the customer you play: an E.164 number or a WhatsApp user id")
	return cmd
}

// localChat is a chatTransport straight to a Service: no NATS, no database.
type localChat struct {
	path     string
	customer bot.CustomerID
	store    *memstore.Store
	out      io.Writer
	log      zerolog.Logger
	printer  *chat

	mu      sync.Mutex // one turn or timer at a time; guards the fields below
	svc     *bot.Service
	src     []byte
	version string
	seq     int
}

// reload loads the flow file again if it changed. At start a flow that does
// not load is an error; later it is reported and the last good one kept.
func (lc *localChat) reload(ctx context.Context, first bool) error {
	src, err := os.ReadFile(lc.path)
	if err != nil {
		if first {
			return err
		}
		fmt.Fprintf(lc.out, "(cannot read %s: %v; keeping version %s)\n", lc.path, err, lc.version)
		return nil
	}
	if !first && bytes.Equal(src, lc.src) {
		return nil
	}
	lc.src = src
	flow, err := flows.Load(lc.path, src)
	if err != nil {
		if first {
			return fmt.Errorf("flow %s does not load:\n%w", lc.path, err)
		}
		fmt.Fprintf(lc.out, "(%s does not load; keeping version %s)\n%v\n", lc.path, lc.version, err)
		return nil
	}
	svc, err := bot.NewService(ctx, bot.ServiceConfig{Store: lc.store, Logger: lc.log},
		[]bot.BusinessConfig{{ID: flowtests.BusinessSlug(flow), Flow: flow, Source: src}})
	if err != nil {
		return err
	}
	if !first {
		fmt.Fprintf(lc.out, "(flow reloaded: version %s)\n", flow.Version)
	}
	lc.svc, lc.version = svc, flow.Version
	return nil
}

func (lc *localChat) Say(ctx context.Context, text string, button *envelope.Button) ([]chatEvent, error) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if err := lc.reload(ctx, false); err != nil {
		return nil, err
	}
	lc.seq++
	in := bot.Inbound{ID: "chat-" + strconv.Itoa(lc.seq), Customer: lc.customer, Timestamp: time.Now().UTC(), Text: text}
	if button != nil {
		in.ButtonID, in.ButtonTitle = button.ID, button.Title
	}
	effects, err := lc.svc.HandleInbound(ctx, in)
	if err != nil {
		return nil, err
	}
	return chatEvents(effects)
}

// fireTimers fires the flow's due timers every second and prints what they
// send.
func (lc *localChat) fireTimers(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		events, err := lc.fireDue(ctx)
		if err != nil {
			fmt.Fprintf(lc.out, "(timer: %v)\n", err)
		}
		if len(events) > 0 && lc.printer != nil {
			lc.printer.print(events)
		}
	}
}

func (lc *localChat) fireDue(ctx context.Context) ([]chatEvent, error) {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	due, err := lc.store.DueTimers(ctx, time.Now().Add(time.Microsecond), 10)
	if err != nil {
		return nil, err
	}
	var events []chatEvent
	for _, d := range due {
		effects, err := lc.svc.HandleTimer(ctx, d)
		if err != nil {
			return events, err
		}
		ev, err := chatEvents(effects)
		if err != nil {
			return events, err
		}
		events = append(events, ev...)
	}
	return events, nil
}

// chatEvents turns effects into what the chat prints, through the same
// envelopes the relay publishes.
func chatEvents(effects []bot.Effect) ([]chatEvent, error) {
	var out []chatEvent
	for _, e := range effects {
		pubs, err := envelope.FromEffect(e)
		if err != nil {
			return nil, err
		}
		for _, p := range pubs {
			v, err := envelope.Decode(p.Data)
			if err != nil {
				return nil, err
			}
			switch v := v.(type) {
			case envelope.OutboundMessage:
				out = append(out, chatEvent{outbound: &v})
			case envelope.ConsentChange:
				out = append(out, chatEvent{consent: &v})
			case envelope.SendDecision:
				out = append(out, chatEvent{decision: &v})
			}
		}
	}
	return out, nil
}
