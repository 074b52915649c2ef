package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/optinbot/optinbot/adapters/consenthook"
	"github.com/optinbot/optinbot/adapters/sender"
	"github.com/optinbot/optinbot/adapters/webhook"
	"github.com/optinbot/optinbot/bot"
)

// metrics counts turns, effects, refusals and consent changes. It
// implements bot.Observer.
type metrics struct {
	turns    *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	messages *prometheus.CounterVec
	refusals *prometheus.CounterVec
	consent  *prometheus.CounterVec
	grants   *prometheus.CounterVec
	webhooks *prometheus.CounterVec
	hookTime *prometheus.HistogramVec
	items    *prometheus.CounterVec
	sends    *prometheus.CounterVec
	sendTime *prometheus.HistogramVec
	retries  *prometheus.CounterVec
	// The consent webhooks (adapters/consenthook).
	hookDeliveries *prometheus.CounterVec
	hookAttempts   *prometheus.CounterVec
	hookAttemptDur *prometheus.HistogramVec
	hookDelivDur   *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "optinbot_turns_total", Help: "Committed turns by business and input kind.",
		}, []string{"business", "input"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "optinbot_turn_seconds", Help: "Time to load, decide and commit a turn.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"input"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "optinbot_messages_allowed_total", Help: "Outbound messages the guard allowed, by kind.",
		}, []string{"business", "kind"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "optinbot_guard_refusals_total", Help: "Outbound messages the guard refused, by reason.",
		}, []string{"business", "kind", "reason"}),
		consent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "optinbot_consent_events_total", Help: "Consent ledger events by topic, status and source.",
		}, []string{"business", "topic", "status", "source"}),
		grants: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "optinbot_grant_refusals_total", Help: "Consent grants from outside the chat the engine refused, by source and reason.",
		}, []string{"business", "source", "reason"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "optinbot_webhook_requests_total", Help: "Provider webhook requests by outcome.",
		}, []string{"provider", "outcome"}),
		hookTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "optinbot_webhook_seconds", Help: "Time to verify, parse and durably publish a webhook.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"provider"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "optinbot_webhook_items_total", Help: "Envelopes published from webhooks, by type.",
		}, []string{"provider", "type"}),
	}
	m.sends = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "optinbot_provider_sends_total", Help: "Outbound messages handed to a provider, by outcome.",
	}, []string{"provider", "sender", "outcome"})
	m.sendTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "optinbot_provider_send_seconds", Help: "Time from taking an outbound message to its outcome, retries included.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
	}, []string{"provider"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "optinbot_provider_retries_total", Help: "Provider calls retried, by error code.",
	}, []string{"provider", "sender", "code"})
	m.hookDeliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "optinbot_consent_webhook_deliveries_total", Help: "Consent changes posted to the businesses' webhooks, by outcome (delivered, rejected, exhausted, invalid).",
	}, []string{"business", "outcome"})
	m.hookAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "optinbot_consent_webhook_attempts_total", Help: "Consent webhook requests, by result (2xx, 4xx, 429, 5xx, error).",
	}, []string{"business", "result"})
	m.hookAttemptDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "optinbot_consent_webhook_request_seconds", Help: "Time of one consent webhook request, answer included.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
	}, []string{"business"})
	m.hookDelivDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "optinbot_consent_webhook_delivery_seconds", Help: "Time from taking a consent change to its outcome, retries included.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 20),
	}, []string{"business"})
	reg.MustRegister(m.hookDeliveries, m.hookAttempts, m.hookAttemptDur, m.hookDelivDur)
	reg.MustRegister(m.turns, m.latency, m.messages, m.refusals, m.consent, m.grants, m.webhooks, m.hookTime, m.items,
		m.sends, m.sendTime, m.retries)
	return m
}

func (m *metrics) ObserveRequest(provider string, outcome webhook.Outcome, elapsed time.Duration) {
	m.webhooks.WithLabelValues(provider, string(outcome)).Inc()
	m.hookTime.WithLabelValues(provider).Observe(elapsed.Seconds())
}

func (m *metrics) ObserveItems(provider, itemType string, n int) {
	m.items.WithLabelValues(provider, itemType).Add(float64(n))
}

func (m *metrics) ObserveTurn(input bot.InputKind, turn bot.Turn, elapsed time.Duration) {
	biz := string(turn.Business)
	m.turns.WithLabelValues(biz, string(input)).Inc()
	m.latency.WithLabelValues(string(input)).Observe(elapsed.Seconds())
	for _, e := range turn.Effects {
		switch e.Kind {
		case bot.EffectMessage:
			m.messages.WithLabelValues(biz, string(e.Message.Kind)).Inc()
		case bot.EffectRefused:
			m.refusals.WithLabelValues(biz, string(e.Refusal.Kind), string(e.Refusal.Reason)).Inc()
		case bot.EffectConsent:
			m.consent.WithLabelValues(biz, string(e.Consent.Topic), string(e.Consent.Status), string(e.Consent.Source)).Inc()
		case bot.EffectNotice:
			if g := e.Notice.Grant; g != nil {
				m.grants.WithLabelValues(biz, string(g.Source), string(g.Reason)).Inc()
			}
		}
	}
}

func (m *metrics) ObserveSend(provider, from string, outcome sender.Outcome, attempts int, elapsed time.Duration) {
	m.sends.WithLabelValues(provider, from, string(outcome)).Inc()
	m.sendTime.WithLabelValues(provider).Observe(elapsed.Seconds())
}

func (m *metrics) ObserveRetry(provider, from, code string) {
	m.retries.WithLabelValues(provider, from, code).Inc()
}

func (m *metrics) ObserveAttempt(business bot.BusinessID, result string, elapsed time.Duration) {
	m.hookAttempts.WithLabelValues(string(business), result).Inc()
	m.hookAttemptDur.WithLabelValues(string(business)).Observe(elapsed.Seconds())
}

func (m *metrics) ObserveDelivery(business bot.BusinessID, outcome consenthook.Outcome, attempts int, elapsed time.Duration) {
	m.hookDeliveries.WithLabelValues(string(business), string(outcome)).Inc()
	m.hookDelivDur.WithLabelValues(string(business)).Observe(elapsed.Seconds())
}
