package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// chatEvent is something the customer sees (or is told) after a message.
type chatEvent struct {
	outbound *envelope.OutboundMessage
	consent  *envelope.ConsentChange
	decision *envelope.SendDecision
}

// chatTransport carries the customer's messages to the engine and returns,
// once the engine has committed and published everything the message
// caused, what came back for this customer, in order.
type chatTransport interface {
	Say(ctx context.Context, text string, button *envelope.Button) ([]chatEvent, error)
}

// chat is the demo's terminal: the user is the customer. Quick-reply
// buttons show as numbered choices and a digit picks one.
type chat struct {
	mu          sync.Mutex // print runs from the input loop and, in chat --flow, from timers
	transport   chatTransport
	in          io.Reader
	out         io.Writer
	interactive bool // print a prompt before each line
	buttons     []envelope.Button
}

func (c *chat) run(ctx context.Context) error {
	sc := bufio.NewScanner(c.in)
	sc.Buffer(make([]byte, 4096), 64*1024)
	if c.interactive {
		fmt.Fprintln(c.out, "You are the customer. Say hi; type a number to tap a button; Ctrl-D to leave.")
		fmt.Fprint(c.out, "you: ")
	}
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" {
			text, button := line, c.button(line)
			if button != nil {
				text = ""
			}
			events, err := c.transport.Say(ctx, text, button)
			if err != nil {
				return err
			}
			c.print(events)
		}
		if c.interactive {
			fmt.Fprint(c.out, "you: ")
		}
	}
	if c.interactive {
		fmt.Fprintln(c.out)
	}
	return sc.Err()
}

// button maps a typed digit to the last message's buttons.
func (c *chat) button(line string) *envelope.Button {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := strconv.Atoi(line)
	if err != nil || n < 1 || n > len(c.buttons) {
		return nil
	}
	b := c.buttons[n-1]
	return &b
}

func (c *chat) print(events []chatEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range events {
		switch {
		case e.consent != nil:
			fmt.Fprintf(c.out, "consent: %s=%s\n", e.consent.Topic, e.consent.Status)
		case e.outbound != nil:
			fmt.Fprintf(c.out, "bot: %s\n", e.outbound.Text)
			c.buttons = e.outbound.Buttons
			if l := e.outbound.List; l != nil {
				c.buttons = nil
				for _, r := range l.Rows {
					c.buttons = append(c.buttons, envelope.Button{ID: r.ID, Title: r.Title})
				}
			}
			for i, b := range c.buttons {
				fmt.Fprintf(c.out, "     %d) %s\n", i+1, b.Title)
			}
		case e.decision != nil && !e.decision.Allowed:
			fmt.Fprintf(c.out, "bot: (reply refused: %s)\n", e.decision.Reason)
		}
	}
}
