package lint

import (
	"encoding/json"
	"strconv"

	"github.com/optinbot/optinbot/flows"
)

// Severity says whether a finding fails the lint.
type Severity int

const (
	// Error: the flow breaks a WhatsApp rule or cannot work as written.
	// `optinbot lint` exits 1.
	Error Severity = iota
	// Warning: probably a mistake, worth a look; the exit status stays 0.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns String, so JSON holds "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// DocFile is the page that explains every code, relative to the
// repository's root.
const DocFile = "docs/lint.md"

// Finding is one thing a rule found in a flow.
type Finding struct {
	File     string
	Pos      flows.Pos // zero Line or Col when unknown (see Lint)
	Code     string    // the rule's code, e.g. "OB001"
	Severity Severity
	Message  string
}

// Doc returns where the rule is explained: "docs/lint.md#OB001".
func (f Finding) Doc() string { return DocFile + "#" + f.Code }

// String formats the finding as
// "file:line:col: CODE severity: message (docs/lint.md#CODE)". Like
// flows.Problem, it leaves out the parts of the position that are unknown.
func (f Finding) String() string {
	return where(f.File, f.Pos) + f.Code + " " + f.Severity.String() + ": " + f.Message + " (" + f.Doc() + ")"
}

// where returns "file:line:col: " without its unknown parts.
func where(file string, pos flows.Pos) string {
	s := file
	if pos.Line > 0 {
		if s != "" {
			s += ":"
		}
		s += strconv.Itoa(pos.Line)
		if pos.Col > 0 {
			s += ":" + strconv.Itoa(pos.Col)
		}
	}
	if s == "" {
		return ""
	}
	return s + ": "
}

// jsonLine is the JSON form of a finding, and of a load problem (code
// "load"), one per line in --format json.
type jsonLine struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Doc      string `json:"doc"`
}

// MarshalJSON returns the finding as
// {"file","line","col","code","severity","message","doc"}, the form of
// --format json.
func (f Finding) MarshalJSON() ([]byte, error) {
	return json.Marshal(f.jsonLine())
}

func (f Finding) jsonLine() jsonLine {
	return jsonLine{
		File: f.File, Line: f.Pos.Line, Col: f.Pos.Col, Code: f.Code,
		Severity: f.Severity.String(), Message: f.Message, Doc: f.Doc(),
	}
}
