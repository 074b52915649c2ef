// Package natsbus connects the engine to NATS JetStream.
//
// Two streams carry everything (EnsureStreams creates or updates them):
//
//	<P>_IN   <prefix>.v1.{inbound,send,status,signal}.>
//	<P>_OUT  <prefix>.v1.{outbound,consent,decision,delivery,notice,event,deadletter}.>
//
// where P is the prefix upper-cased with characters a stream name cannot
// hold replaced by '_'. Both deduplicate by the Nats-Msg-Id header within
// their duplicate window (10 minutes by default).
//
// Inbound: provider adapters publish with a Publisher (Nats-Msg-Id = the
// envelope's MsgID(); PublishBatch for a whole webhook body). A Consumer
// pulls <P>_IN through a durable consumer and hands each envelope to the
// Engine (inbound messages, send requests, every delivery status as a
// DeliveryUpdate, consent signals as a MarketingPreference), one message
// per customer at a time and in order, acknowledging only after the engine
// returned nil, that is after the turn and its effects were committed.
//
// Outbound: the engine never publishes. It commits each turn's effects to
// the store's outbox in the same transaction as the conversation state; a
// Relay then publishes them to <P>_OUT with Nats-Msg-Id = the effect id and
// marks them published after JetStream acknowledged them. A crash between
// commit and publish loses nothing (the effects are still pending and the
// next Relay publishes them); a crash between publish and mark duplicates
// nothing within the duplicate window (the stream drops the second copy).
//
// Everything here works with nats-server 2.9 and later. Loggers are
// injected; customer ids are logged redacted and message text never.
// docs/nats.md is the contract for the other side of the bus. Package
// natstest runs an embedded server for tests.
package natsbus
