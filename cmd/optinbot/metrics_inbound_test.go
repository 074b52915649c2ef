package main

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/optinbot/optinbot/bot"
)

// Customers' messages are counted by kind, the time to the reply is
// observed only for turns that answered, and windows found closed are
// counted by who found them.
func TestMetricsInboundAndWindows(t *testing.T) {
	m := newMetrics(prometheus.NewRegistry())
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	reply := bot.Effect{Kind: bot.EffectMessage, Business: "acme", Message: &bot.Message{Kind: bot.KindText}}
	m.ObserveInbound(bot.Inbound{Business: "acme", Timestamp: at, Text: "hi"}, []bot.Effect{reply}, at.Add(1500*time.Millisecond))
	m.ObserveInbound(bot.Inbound{Timestamp: at, ButtonID: "optin_yes"}, []bot.Effect{reply}, at.Add(time.Second))
	m.ObserveInbound(bot.Inbound{Business: "acme", Timestamp: at, Reaction: true},
		[]bot.Effect{{Kind: bot.EffectConsent, Business: "acme"}}, at.Add(time.Second))
	for kind, want := range map[string]float64{"text": 1, "button": 1, "reaction": 1, "unsupported": 0} {
		if got := testutil.ToFloat64(m.inbound.WithLabelValues("acme", kind)); got != want {
			t.Errorf("inbound %s: %v, want %v", kind, got, want)
		}
	}
	if n := testutil.CollectAndCount(m.replyLatency); n != 1 {
		t.Errorf("%d reply latency series, want 1", n)
	}

	refused := bot.Effect{Kind: bot.EffectRefused, Business: "acme", Refusal: &bot.Refusal{Kind: bot.KindText, Reason: bot.ReasonWindowClosed}}
	capped := bot.Effect{Kind: bot.EffectRefused, Business: "acme", Refusal: &bot.Refusal{Kind: bot.KindTemplate, Reason: bot.ReasonFrequencyCap}}
	closed := bot.Effect{Kind: bot.EffectNotice, Business: "acme", Notice: &bot.Notice{Kind: bot.NoticeWindowClosed}}
	m.ObserveTurn(bot.InputSendRequest, bot.Turn{Business: "acme", Effects: []bot.Effect{refused, capped}}, 0)
	m.ObserveTurn(bot.InputDeliveryUpdate, bot.Turn{Business: "acme", Effects: []bot.Effect{closed}}, 0)
	for source, want := range map[string]float64{"guard": 1, "provider": 1} {
		if got := testutil.ToFloat64(m.expiries.WithLabelValues("acme", source)); got != want {
			t.Errorf("window expiries by %s: %v, want %v", source, got, want)
		}
	}
}
