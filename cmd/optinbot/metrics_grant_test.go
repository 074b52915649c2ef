package main

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/optinbot/optinbot/bot"
)

// A refused consent grant is counted by source and reason (issue 10,
// item 1).
func TestMetricsCountRefusedGrants(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	refused := bot.Effect{ID: "acme/grant:g1/0", Kind: bot.EffectNotice, Business: "acme", Customer: "+14155550100",
		Notice: &bot.Notice{Kind: bot.NoticeGrantRefused, Detail: "…",
			Grant: &bot.GrantRefusal{ID: "g1", Topic: "orders", Source: bot.SourceAPI, Reason: bot.GrantWordingIncomplete}}}
	held := bot.Effect{ID: "acme/s/0", Kind: bot.EffectNotice, Business: "acme", Notice: &bot.Notice{Kind: bot.NoticeHeld}}
	m.ObserveTurn(bot.InputConsentGrant, bot.Turn{Business: "acme", Effects: []bot.Effect{refused, held}}, 0)
	m.ObserveTurn(bot.InputConsentGrant, bot.Turn{Business: "acme", Effects: []bot.Effect{refused}}, 0)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range families {
		if f.GetName() != "optinbot_grant_refusals_total" {
			continue
		}
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["business"] == "acme" && labels["source"] == "api" && labels["reason"] == "wording_incomplete" {
				found = true
				if v := metric.GetCounter().GetValue(); v != 2 {
					t.Errorf("refused grants counted %v, want 2", v)
				}
			} else {
				t.Errorf("unexpected series %v", labels)
			}
		}
	}
	if !found {
		t.Error("no optinbot_grant_refusals_total series for the refused grant")
	}
}
