package businessapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/adapters/businessapi"
)

// docExample is one request of docs/api.md and the response it documents.
type docExample struct {
	line         int
	method, path string
	header       map[string]string // the request's headers, before its body
	body         string
	status       int
	format       string // json or jsonl
	response     string
}

var responseLine = regexp.MustCompile("^Response `(\\d{3})`:$")

// parseDocExamples reads every ```http block of the page and the
// "Response `NNN`:" block after it.
func parseDocExamples(t *testing.T, path string) []docExample {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []docExample
	var cur *docExample
	var block []string
	inBlock, kind := false, ""
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case !inBlock && strings.HasPrefix(line, "```"):
			inBlock, kind, block = true, strings.TrimPrefix(line, "```"), nil
			if kind == "http" {
				out = append(out, docExample{line: n})
				cur = &out[len(out)-1]
			}
		case inBlock && line == "```":
			inBlock = false
			switch {
			case kind == "http":
				method, path, ok := strings.Cut(block[0], " ")
				if !ok {
					t.Fatalf("%s:%d: want METHOD PATH, got %q", path, cur.line, block[0])
				}
				cur.method, cur.path = method, path
				rest := block[1:]
				for len(rest) > 0 {
					name, value, ok := strings.Cut(rest[0], ": ")
					if !ok || strings.ContainsAny(name, " {\"") {
						break
					}
					if cur.header == nil {
						cur.header = map[string]string{}
					}
					cur.header[name] = value
					rest = rest[1:]
				}
				cur.body = strings.TrimSpace(strings.Join(rest, "\n"))
			case cur != nil && cur.status != 0 && cur.response == "" && (kind == "json" || kind == "jsonl"):
				cur.format, cur.response = kind, strings.Join(block, "\n")
			}
		case inBlock:
			block = append(block, line)
		case cur != nil && responseLine.MatchString(line):
			cur.status, _ = strconv.Atoi(responseLine.FindStringSubmatch(line)[1])
		}
	}
	for _, ex := range out {
		if ex.status == 0 || ex.response == "" {
			t.Errorf("%s:%d: %s %s has no documented response", path, ex.line, ex.method, ex.path)
		}
	}
	return out
}

// matches reports where got differs from the documented want: every key
// of a documented object must be there with a matching value, arrays
// match element by element, and the string "…" matches any value.
func matches(want, got any, at string) error {
	if s, ok := want.(string); ok && s == "…" {
		if got == nil {
			return fmt.Errorf("%s: missing", at)
		}
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %v, want an object", at, got)
		}
		for k, wv := range w {
			if err := matches(wv, g[k], at+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: got %v, want %d elements", at, got, len(w))
		}
		for i := range w {
			if err := matches(w[i], g[i], fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
		return nil
	default:
		if fmt.Sprint(want) != fmt.Sprint(got) {
			return fmt.Errorf("%s: got %v, want %v", at, got, want)
		}
		return nil
	}
}

func TestDocExamples(t *testing.T) {
	const page = "../../docs/api.md"
	examples := parseDocExamples(t, page)
	if len(examples) < 8 {
		t.Fatalf("%s documents %d examples; the parser lost some", page, len(examples))
	}
	e := newEnv(t, businessapi.Config{})
	e.say("acme", alice, "hi")
	e.say("acme", alice, "YES")
	// Examples for wonka (whose flow sends verification codes) use its
	// key; every other one acme's, so globex's answer 403.
	keys := map[string]string{"wonka": e.wonkaKey}
	// A path may name {id}: the id of the latest response that had one.
	lastID := ""
	for _, ex := range examples {
		t.Run(fmt.Sprintf("line%d", ex.line), func(t *testing.T) {
			path := strings.ReplaceAll(ex.path, "{id}", lastID)
			key := e.acmeKey
			if parts := strings.Split(path, "/"); len(parts) > 3 && keys[parts[3]] != "" {
				key = keys[parts[3]]
			}
			var res response
			switch {
			case ex.header["Content-Type"] != "":
				res = e.doCT(ex.method, path, key, ex.header["Content-Type"], ex.body)
			case ex.body != "":
				res = e.do(ex.method, path, key, strings.NewReader(ex.body))
			default:
				res = e.do(ex.method, path, key, nil)
			}
			var withID struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(res.body, &withID) == nil && withID.ID != "" {
				lastID = withID.ID
			}
			if res.status != ex.status {
				t.Fatalf("%s:%d: %s %s: status %d, documented %d: %s", page, ex.line, ex.method, ex.path, res.status, ex.status, res.body)
			}
			var wants, gots []string
			if ex.format == "jsonl" {
				wants = strings.Split(strings.TrimSpace(ex.response), "\n")
				gots = strings.Split(strings.TrimSpace(string(res.body)), "\n")
			} else {
				wants, gots = []string{ex.response}, []string{string(res.body)}
			}
			if len(wants) != len(gots) {
				t.Fatalf("%s:%d: %d lines, documented %d:\n%s", page, ex.line, len(gots), len(wants), res.body)
			}
			for i := range wants {
				var want, got any
				if err := json.Unmarshal([]byte(wants[i]), &want); err != nil {
					t.Fatalf("%s:%d: the documented response is not JSON: %v", page, ex.line, err)
				}
				if err := json.Unmarshal([]byte(gots[i]), &got); err != nil {
					t.Fatalf("%s:%d: the response is not JSON: %v\n%s", page, ex.line, err, gots[i])
				}
				if err := matches(want, got, "response"); err != nil {
					t.Errorf("%s:%d: %s %s: %v\nfull response: %s", page, ex.line, ex.method, ex.path, err, gots[i])
				}
			}
		})
	}
}
