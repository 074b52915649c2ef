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
	// Inbound messages, replies and windows (ObserveInbound, ObserveTurn).
	inbound      *prometheus.CounterVec
	replyLatency *prometheus.HistogramVec
	expiries     *prometheus.CounterVec
	// The connections serve depends on.
	natsUp         prometheus.Gauge
	natsReconnects prometheus.Counter
	storeUp        prometheus.Gauge
	storePing      prometheus.Histogram
	// Quality ratings of the senders (quality.go).
	qualityRating     *prometheus.GaugeVec
	qualityDowngrades *prometheus.CounterVec
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
	m.inbound = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "optinbot_inbound_messages_total", Help: "Customers' messages committed, by business and kind (text, button, reaction, unsupported).",
	}, []string{"business", "kind"})
	m.replyLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "optinbot_reply_latency_seconds", Help: "Time from a customer's message (the provider's timestamp) to the commit of the engine's reply.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
	}, []string{"business"})
	m.expiries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "optinbot_window_expiries_total", Help: "Customer service windows found closed: by the guard refusing a free-form message (source guard) or reported by the provider (source provider).",
	}, []string{"business", "source"})
	m.natsUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "optinbot_nats_connected", Help: "1 while the connection to NATS is up, 0 otherwise.",
	})
	m.natsReconnects = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "optinbot_nats_reconnects_total", Help: "Reconnections to NATS after a lost connection.",
	})
	m.storeUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "optinbot_store_up", Help: "1 when the last ping of the database answered within 1s, 0 otherwise.",
	})
	m.storePing = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "optinbot_store_ping_seconds", Help: "Time of a database ping.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	})
	m.qualityRating = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "optinbot_quality_rating", Help: "A sender number's last known quality rating: 2 green, 1 yellow, 0 red (absent while unknown).",
	}, []string{"business", "sender"})
	m.qualityDowngrades = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "optinbot_quality_downgrades_total", Help: "Quality rating or messaging limit downgrades of a sender number reported by the provider.",
	}, []string{"business", "sender"})
	reg.MustRegister(m.inbound, m.replyLatency, m.expiries, m.natsUp, m.natsReconnects, m.storeUp, m.storePing,
		m.qualityRating, m.qualityDowngrades)
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
			if e.Refusal.Reason == bot.ReasonWindowClosed {
				m.expiries.WithLabelValues(biz, "guard").Inc()
			}
		case bot.EffectConsent:
			m.consent.WithLabelValues(biz, string(e.Consent.Topic), string(e.Consent.Status), string(e.Consent.Source)).Inc()
		case bot.EffectNotice:
			if e.Notice.Kind == bot.NoticeWindowClosed {
				m.expiries.WithLabelValues(biz, "provider").Inc()
			}
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

// ObserveInbound counts a customer's committed message and, when the turn
// answered it, the time from the message to the commit of the answer.
func (m *metrics) ObserveInbound(in bot.Inbound, effects []bot.Effect, committed time.Time) {
	biz := string(in.Business)
	if biz == "" && len(effects) > 0 {
		biz = string(effects[0].Business)
	}
	m.inbound.WithLabelValues(biz, inboundKind(in)).Inc()
	if in.Timestamp.IsZero() {
		return
	}
	for _, e := range effects {
		if e.Kind == bot.EffectMessage {
			m.replyLatency.WithLabelValues(biz).Observe(max(committed.Sub(in.Timestamp), 0).Seconds())
			return
		}
	}
}

// inboundKind is the label of a customer's message.
func inboundKind(in bot.Inbound) string {
	switch {
	case in.Reaction:
		return "reaction"
	case in.Unsupported:
		return "unsupported"
	case in.ButtonID != "":
		return "button"
	}
	return "text"
}

// natsConnected records the state of the NATS connection.
func (m *metrics) natsConnected(up bool, reconnected bool) {
	if m == nil {
		return
	}
	if up {
		m.natsUp.Set(1)
	} else {
		m.natsUp.Set(0)
	}
	if reconnected {
		m.natsReconnects.Inc()
	}
}

// storePinged records a database ping.
func (m *metrics) storePinged(elapsed time.Duration, err error) {
	if m == nil {
		return
	}
	m.storePing.Observe(elapsed.Seconds())
	if err != nil {
		m.storeUp.Set(0)
	} else {
		m.storeUp.Set(1)
	}
}
