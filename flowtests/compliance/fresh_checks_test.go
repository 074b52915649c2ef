package compliance

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// The planted flows of P5 (grants) and P8 (fresh, clear YES): issue 10,
// items 1 and 4. Each breaking flow violates exactly its property.
func TestPlantedFreshEvidence(t *testing.T) {
	for _, tc := range []struct {
		file     string
		violates Property
		code     int
		says     string
	}{
		{"grant_emoji_topic.yaml", GrantNeedsFreshEvidence, ExitFail, `worded "Brewline Coffee on WhatsApp" was recorded`},
		{"grant_topics.yaml", "", ExitPass, "all properties hold"},
		{"number_optin.yaml", YesNeedsFreshRequest, ExitFail, `a bare "1" in state ask recorded consent to news (keyword 1)`},
		{"number_shown.yaml", "", ExitPass, "all properties hold"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			var out bytes.Buffer
			if code := Run(&out, []string{path}); code != tc.code {
				t.Errorf("Run exited %d, want %d:\n%s", code, tc.code, out.String())
			}
			if !strings.Contains(out.String(), tc.says) {
				t.Errorf("output does not say %q:\n%s", tc.says, out.String())
			}
			checkGolden(t, strings.TrimSuffix(path, ".yaml")+".golden", out.String())
			f, src := load(t, path)
			vs := Check(f, src)
			switch {
			case tc.violates == "" && len(vs) > 0:
				t.Errorf("violations %+v, want none", vs)
			case tc.violates != "" && (len(vs) != 1 || vs[0].Property != tc.violates):
				t.Errorf("violations %+v, want exactly %s", vs, tc.violates)
			case tc.violates != "":
				if len(vs[0].Conversation) == 0 || strings.Contains(vs[0].Message, "not reproduced") || vs[0].Pos.Line == 0 {
					t.Errorf("violation %+v: want a reproduced conversation and a position", vs[0])
				}
			}
		})
	}
}

// Where the reports point: P5 at the topic the grant re-opened, P8 at the
// transition that took the number.
func TestFreshEvidencePositions(t *testing.T) {
	f, src := load(t, "testdata/grant_emoji_topic.yaml")
	if vs := Check(f, src); len(vs) != 1 || vs[0].Pos != f.Topics[0].Pos {
		t.Errorf("P5 at %+v, want the topic at %v", vs, f.Topics[0].Pos)
	}
	f, src = load(t, "testdata/number_optin.yaml")
	if vs := Check(f, src); len(vs) != 1 || vs[0].Pos != f.States["ask"].On[0].Pos || vs[0].State != "ask" {
		t.Errorf("P8 at %+v, want transition 1 of ask at %v", vs, f.States["ask"].On[0].Pos)
	}
}

func TestNewPropertiesHaveTitles(t *testing.T) {
	for _, p := range []Property{GrantNeedsFreshEvidence, YesNeedsFreshRequest} {
		if p.Title() == string(p) {
			t.Errorf("%s has no title", p)
		}
	}
}
