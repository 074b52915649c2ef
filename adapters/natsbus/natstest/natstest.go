package natstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// RunServer starts an embedded nats-server with JetStream on a random local
// port, storing in t.TempDir(), and shuts it down when the test ends.
func RunServer(t testing.TB) *server.Server {
	t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		t.Fatalf("embedded nats-server: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		t.Fatal("embedded nats-server did not start within 10s")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}

// Connect connects to url and returns the connection and its JetStream
// context, closed when the test ends.
func Connect(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.Name(t.Name()), nats.Timeout(5*time.Second))
	if err != nil {
		t.Fatalf("connect to NATS at %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

// RealServerEnv names the variable holding the URL of the machine's NATS
// server for integration tests.
const RealServerEnv = "OPTINBOT_TEST_NATS_URL"

// DefaultRealServerURL is used when RealServerEnv is unset.
const DefaultRealServerURL = "nats://127.0.0.1:4222"

// RealServer returns the URL of the machine's NATS server, failing the test
// (never skipping it) with instructions when it is unreachable.
func RealServer(t testing.TB) string {
	t.Helper()
	u := os.Getenv(RealServerEnv)
	if u == "" {
		u = DefaultRealServerURL
	}
	host := u
	if parsed, err := url.Parse(u); err == nil && parsed.Host != "" {
		host = parsed.Host
	}
	conn, err := net.DialTimeout("tcp", host, 3*time.Second)
	if err != nil {
		t.Fatalf("the NATS server at %s (from $%s, default %s) is unreachable: %v\n"+
			"Start the machine's server with JetStream:\n"+
			"  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- "+
			"-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log\n"+
			"or point $%s at another one.", u, RealServerEnv, DefaultRealServerURL, err, RealServerEnv)
	}
	conn.Close()
	return u
}

// Prefix returns a subject prefix unique to this run of the test, e.g.
// "t3f9a0c1d2e", so tests sharing a server do not see each other.
func Prefix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "t" + hex.EncodeToString(b)
}

// DeleteStreamsAtCleanup deletes the named streams (and so their consumers)
// when the test ends; a stream that does not exist is fine.
func DeleteStreamsAtCleanup(t testing.TB, js jetstream.JetStream, streams ...string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, s := range streams {
			if err := js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				t.Errorf("delete stream %s: %v", s, err)
			}
		}
	})
}

// Stored is a message read back from a stream.
type Stored struct {
	Seq     uint64
	Subject string
	MsgID   string // the Nats-Msg-Id header
	Data    []byte
}

// Messages returns every message in a stream, in sequence order.
func Messages(t testing.TB, js jetstream.JetStream, stream string) []Stored {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", stream, err)
	}
	var out []Stored
	if info.State.Msgs == 0 {
		return nil
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("stream %s message %d: %v", stream, seq, err)
		}
		out = append(out, Stored{Seq: m.Sequence, Subject: m.Subject, MsgID: m.Header.Get(jetstream.MsgIDHeader), Data: m.Data})
	}
	return out
}

// CountBySubject counts a stream's messages per subject.
func CountBySubject(t testing.TB, js jetstream.JetStream, stream string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, m := range Messages(t, js, stream) {
		counts[m.Subject]++
	}
	return counts
}

// CountByMsgID counts a stream's messages per Nats-Msg-Id.
func CountByMsgID(t testing.TB, js jetstream.JetStream, stream string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, m := range Messages(t, js, stream) {
		counts[m.MsgID]++
	}
	return counts
}

// Eventually polls cond every 10ms until it holds or timeout passes, then
// fails the test with msg.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: "+msg, append([]any{timeout}, args...)...)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// StartServer starts an embedded nats-server with JetStream on a given
// port (0: a random one) storing in storeDir, and shuts it down when the
// test ends. Unlike RunServer, it is meant to be shut down by the test (an
// outage) and started again on the same port and directory, where it finds
// its streams and their duplicate windows as they were.
func StartServer(t testing.TB, port int, storeDir string) *server.Server {
	t.Helper()
	if port == 0 {
		port = -1
	}
	srv, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      port,
		JetStream: true,
		StoreDir:  storeDir,
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		t.Fatalf("embedded nats-server: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		t.Fatal("embedded nats-server did not start within 10s")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}
