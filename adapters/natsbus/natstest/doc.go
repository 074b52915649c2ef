// Package natstest runs NATS for tests: an embedded JetStream server
// (RunServer), or the machine's real one (RealServer, from
// $OPTINBOT_TEST_NATS_URL, failing with instructions when it is down), a
// unique subject prefix per test (Prefix), stream clean-up, and helpers to
// read a stream back (Messages, CountBySubject, CountByMsgID).
//
// It imports testing and the embedded nats-server: use it from tests only.
package natstest
