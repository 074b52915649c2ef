package natsbus

import (
	"fmt"
	"strings"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// names are everything derived from a prefix.
type names struct {
	subjects  envelope.Subjects
	inStream  string
	outStream string
	durable   string
}

func namesFor(prefix string) (names, error) {
	s, err := envelope.NewSubjects(prefix)
	if err != nil {
		return names{}, err
	}
	in, out := StreamNames(s.Prefix())
	return names{
		subjects:  s,
		inStream:  in,
		outStream: out,
		durable:   DurableName(s.Prefix()),
	}, nil
}

// StreamNames returns the names of the inbound and outbound streams of a
// prefix ("" means envelope.DefaultPrefix): "OPTINBOT_IN" and
// "OPTINBOT_OUT" by default.
func StreamNames(prefix string) (in, out string) {
	if prefix == "" {
		prefix = envelope.DefaultPrefix
	}
	p := strings.ToUpper(streamSafe(prefix))
	return p + "_IN", p + "_OUT"
}

// DurableName returns the default durable consumer name of a prefix:
// "optinbot-engine" by default.
func DurableName(prefix string) string {
	if prefix == "" {
		prefix = envelope.DefaultPrefix
	}
	return strings.ToLower(streamSafe(prefix)) + "-engine"
}

// SenderDurableName returns the durable consumer name of a provider's
// sender on <P>_OUT: "optinbot-sender-meta" for prefix "" and provider
// "meta".
func SenderDurableName(prefix, provider string) string {
	if prefix == "" {
		prefix = envelope.DefaultPrefix
	}
	return strings.ToLower(streamSafe(prefix)) + "-sender-" + streamSafe(provider)
}

// SentBucketName returns the name of the JetStream key-value bucket where
// senders record the outbound ids they sent: "OPTINBOT_SENT" by default.
func SentBucketName(prefix string) string {
	if prefix == "" {
		prefix = envelope.DefaultPrefix
	}
	return strings.ToUpper(streamSafe(prefix)) + "_SENT"
}

// streamSafe replaces every character but ASCII letters, digits, '_' and '-'
// with '_', so the result is a valid stream or consumer name.
func streamSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

func validName(what, name string) error {
	if name == "" || streamSafe(name) != name {
		return fmt.Errorf("%s %q: use ASCII letters, digits, '_' and '-' only", what, name)
	}
	return nil
}
