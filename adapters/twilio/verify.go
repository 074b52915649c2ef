package twilio

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's signature scheme is HMAC-SHA1.
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// SignatureHeader is the header Twilio signs its webhook requests in.
const SignatureHeader = "X-Twilio-Signature"

// Verify checks the request's X-Twilio-Signature: base64 of the HMAC-SHA1,
// keyed with the Auth Token, of the full URL Twilio called followed by the
// body's form parameters, keys sorted, each key immediately followed by its
// value. The URL is tried with and without the scheme's default port (:443,
// :80), as Twilio signs whichever form it called. A webhook with a JSON body
// (the URL carries bodySHA256) is checked the JSON way: the URL alone is
// signed and the body must hash to bodySHA256.
//
// A missing or wrong signature is an error wrapping envelope.ErrUnauthorized;
// it never quotes the body or the signature.
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	got := r.Header.Get(SignatureHeader)
	if got == "" {
		return unauthorized("missing " + SignatureHeader + " header")
	}
	full := a.requestURL(r)
	var messages []string
	if h := bodySHA256(full); h != "" {
		sum := sha256.Sum256(body)
		if !hmac.Equal([]byte(strings.ToLower(h)), []byte(hex.EncodeToString(sum[:]))) {
			return unauthorized("the body does not match the URL's bodySHA256")
		}
		messages = urlVariants(full)
	} else {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return unauthorized("the body is not form-encoded, so its signature cannot be checked")
		}
		for _, u := range urlVariants(full) {
			for _, p := range paramStrings(form) {
				messages = append(messages, u+p)
			}
		}
	}
	ok := false
	for _, m := range messages {
		// Compare every candidate, so the time taken does not say which
		// one came close.
		if hmac.Equal([]byte(a.sign(m)), []byte(got)) {
			ok = true
		}
	}
	if !ok {
		return unauthorized(SignatureHeader + " does not match (wrong Auth Token, or a URL other than the one Twilio called: set PublicURL behind a proxy)")
	}
	return nil
}

// Signature returns the X-Twilio-Signature Twilio sends for a form body
// posted to fullURL. Tests and tools use it to sign requests.
func (a *Adapter) Signature(fullURL string, form url.Values) string {
	return a.sign(fullURL + paramStrings(form)[0])
}

func (a *Adapter) sign(message string) string {
	mac := hmac.New(sha1.New, []byte(a.authToken))
	mac.Write([]byte(message))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func unauthorized(reason string) error {
	return fmt.Errorf("twilio: %s: %w", reason, envelope.ErrUnauthorized)
}

// requestURL is the URL Twilio called: PublicURL followed by the request's
// path and query when PublicURL is set, else rebuilt from the request.
func (a *Adapter) requestURL(r *http.Request) string {
	uri := r.RequestURI
	if uri == "" && r.URL != nil {
		uri = r.URL.RequestURI()
	}
	if !strings.HasPrefix(uri, "/") {
		// An absolute-form request target ("https://host/path?q").
		if u, err := url.ParseRequestURI(uri); err == nil && u.IsAbs() {
			uri = u.RequestURI()
		}
	}
	if a.publicURL != "" {
		return a.publicURL + uri
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		p, _, _ = strings.Cut(p, ",")
		if p = strings.ToLower(strings.TrimSpace(p)); p == "https" || p == "http" {
			scheme = p
		}
	}
	host := r.Host
	if host == "" && r.URL != nil {
		host = r.URL.Host
	}
	return scheme + "://" + host + uri
}

// urlVariants returns the URL as given, and the same URL with the scheme's
// default port added when it has no port, or removed when it has it. The
// rest of the URL is kept byte for byte.
func urlVariants(full string) []string {
	i := strings.Index(full, "://")
	if i < 0 {
		return []string{full}
	}
	var port string
	switch strings.ToLower(full[:i]) {
	case "https":
		port = "443"
	case "http":
		port = "80"
	default:
		return []string{full}
	}
	head, rest := full[:i+3], full[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	hostport, tail := rest[:end], rest[end:]
	j := strings.LastIndexByte(hostport, ':')
	hasPort := j >= 0 && !strings.Contains(hostport[j:], "]")
	switch {
	case !hasPort:
		return []string{full, head + hostport + ":" + port + tail}
	case hostport[j+1:] == port:
		return []string{full, head + hostport[:j] + tail}
	default:
		return []string{full}
	}
}

// paramStrings returns the form's parameters as Twilio concatenates them:
// keys sorted bytewise, each key followed by its value. A key sent several
// times contributes each value, in the order sent; as Twilio's own
// libraries disagree on that order, a second variant with the values sorted
// is returned when some key repeats.
func paramStrings(form url.Values) []string {
	keys := make([]string, 0, len(form))
	repeated := false
	for k, vs := range form {
		keys = append(keys, k)
		repeated = repeated || len(vs) > 1
	}
	slices.Sort(keys)
	build := func(sorted bool) string {
		var b strings.Builder
		for _, k := range keys {
			vs := form[k]
			if sorted {
				vs = slices.Clone(vs)
				slices.Sort(vs)
			}
			for _, v := range vs {
				b.WriteString(k)
				b.WriteString(v)
			}
		}
		return b.String()
	}
	if !repeated {
		return []string{build(false)}
	}
	return []string{build(false), build(true)}
}

// bodySHA256 returns the bodySHA256 query parameter of a URL, if any.
func bodySHA256(full string) string {
	_, query, ok := strings.Cut(full, "?")
	if !ok {
		return ""
	}
	query, _, _ = strings.Cut(query, "#")
	q, _ := url.ParseQuery(query)
	return q.Get("bodySHA256")
}
