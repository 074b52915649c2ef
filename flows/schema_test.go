package flows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/optinbot/optinbot/flows/examples"
)

// schemaFile is the JSON Schema of the flow language, for editors.
var schemaFile = filepath.Join("..", "docs", "flow.schema.json")

// TestSchemaAcceptsFlows: every shipped example and every valid flow of
// the tests validates against docs/flow.schema.json.
func TestSchemaAcceptsFlows(t *testing.T) {
	v := loadSchema(t)
	sources := map[string][]byte{
		"testdata/full.yaml":    mustRead(t, filepath.Join("testdata", "full.yaml")),
		"generatedFlow":         generatedFlow(4),
		"generatedFullFlow":     generatedFullFlow(4),
		"minimal":               []byte(minimal),
		"TestLoadEverything":    []byte(everything),
		"TestLoadTopicExtras":   []byte(topicExtras),
		"newSyntaxSeeds[0]":     []byte(newSyntaxSeeds[0]),
		"newSyntaxSeeds[1]":     []byte(newSyntaxSeeds[1]),
		"newSyntaxSeeds[2]":     []byte(newSyntaxSeeds[2]),
		"newSyntaxSeeds[3]":     []byte(newSyntaxSeeds[3]),
		"goto and end together": []byte(minimal + "    on: [{else: true, goto: welcome, end: true}]\n"),
		"handoffFlow":           []byte(handoffFlow),
		"experimentFlow":        []byte(experimentFlow),
	}
	names, err := fs.Glob(examples.FS, "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no example flows (%v)", err)
	}
	for _, name := range names {
		src, err := fs.ReadFile(examples.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		sources["examples/"+name] = src
	}
	for name, src := range sources {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(name, src); err != nil {
				t.Fatalf("does not load:\n%v", err)
			}
			doc, err := yamlToJSON(src)
			if err != nil {
				t.Fatal(err)
			}
			if errs := v.validate(doc); len(errs) > 0 {
				t.Errorf("rejected by the schema:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

// structural matches the load problems that are about the shape of the
// file (unknown keys, values of the wrong kind, missing keys, too many
// items), which the schema must catch too. Problems about names,
// references and lengths the schema cannot express are left out.
var structural = regexp.MustCompile(`unknown key |must be (a mapping|a list|a string|text|true|a whole number)|^missing |has \d+ (buttons|rows); WhatsApp allows|a key .* must be a plain name|is empty: give it|has no trigger|has no goto, end: true or handoff|cannot be combined with goto or end|must be a duration`)

// TestSchemaRejectsBroken: every flow of testdata/broken with a structural
// problem is rejected by the schema, or is not even a YAML document JSON
// can hold (syntax errors, duplicate keys).
func TestSchemaRejectsBroken(t *testing.T) {
	v := loadSchema(t)
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no broken flows (%v)", err)
	}
	checked := 0
	for _, path := range files {
		src := mustRead(t, path)
		_, err := Load(path, src)
		le, ok := err.(*LoadError)
		if !ok {
			t.Fatalf("%s: Load = %v", path, err)
		}
		var why []string
		for _, p := range le.Problems {
			if structural.MatchString(p.Msg) {
				why = append(why, p.Error())
			}
		}
		if len(why) == 0 {
			continue
		}
		doc, err := yamlToJSON(src)
		if err != nil {
			t.Logf("%s: not JSON: %v", path, err)
			continue
		}
		checked++
		t.Logf("%s: structurally broken, rejected by the schema", path)
		if errs := v.validate(doc); len(errs) == 0 {
			t.Errorf("%s: the schema accepts it, but it is structurally broken:\n%s", path, strings.Join(why, "\n"))
		}
	}
	if checked < 5 {
		t.Errorf("only %d broken flows checked against the schema", checked)
	}
}

// TestSchemaInSync: the schema's enumerations are the loader's.
func TestSchemaInSync(t *testing.T) {
	v := loadSchema(t)
	defs := v.root["$defs"].(map[string]any)
	topic := defs["topic"].(map[string]any)["properties"].(map[string]any)
	grants := topic["granted_by"].(map[string]any)["items"].(map[string]any)["enum"]
	if got := strings.Fields(fmt.Sprint(grants)); !slices.Equal(got, strings.Fields(fmt.Sprint(GrantSources))) {
		t.Errorf("schema granted_by = %v, GrantSources = %v", grants, GrantSources)
	}
	if got, want := fmt.Sprint(topic["category"].(map[string]any)["enum"]), fmt.Sprint(categoryNames()); got != want {
		t.Errorf("schema categories = %v, want %v", got, want)
	}
	keys := func(name string, path ...string) []string {
		m := v.root
		if name != "" {
			m = defs[name].(map[string]any)
		}
		for _, p := range path {
			m = m[p].(map[string]any)
		}
		var out []string
		for k := range m["properties"].(map[string]any) {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	sorted := func(s []string) []string { s = slices.Clone(s); sort.Strings(s); return s }
	for _, c := range []struct {
		what      string
		got, want []string
	}{
		{"top level", keys(""), sorted(flowKeys)},
		{"messages", keys("", "properties", "messages"), sorted(messageKeys)},
		{"topic", keys("topic"), sorted(topicKeys)},
		{"template", keys("template"), sorted(templateKeys)},
		{"state", keys("state"), sorted(stateKeys)},
		{"transition", keys("transition"), sorted(transitionKeys)},
		{"button", keys("button"), sorted(buttonKeys)},
		{"list", keys("list"), sorted(listKeys)},
		{"row", keys("row"), sorted(rowKeys)},
		{"keywords", keys("keywordSet"), sorted(keywordSetKeys)},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("schema keys of %s = %q, loader's = %q", c.what, c.got, c.want)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// yamlToJSON converts a YAML flow to the JSON an editor validates: decoded
// by yaml.v3 into any, encoded with encoding/json and decoded again with
// numbers kept as json.Number. Mapping keys that are not strings are
// written as YAML wrote them.
func yamlToJSON(src []byte) (any, error) {
	var doc any
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, err
	}
	b, err := json.Marshal(stringKeys(doc))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

func stringKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = stringKeys(x)
		}
		return v
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = stringKeys(x)
		}
		return m
	case []any:
		for i, x := range v {
			v[i] = stringKeys(x)
		}
		return v
	}
	return v
}

// schema is a tiny JSON Schema (draft 2020-12) validator: just the
// keywords docs/flow.schema.json uses. loadSchema fails the test when the
// schema uses any other, so the two stay in step.
type schema struct {
	root     map[string]any
	patterns map[string]*regexp.Regexp
}

// schemaKeywords are the keywords validate knows; annotations are ignored.
var schemaKeywords = []string{
	"type", "properties", "required", "additionalProperties", "propertyNames", "items",
	"enum", "pattern", "minimum", "maximum", "minItems", "maxItems", "minProperties", "maxLength",
	"oneOf", "anyOf", "$ref",
	// annotations and containers
	"$schema", "$id", "$comment", "$defs", "title", "description",
}

func loadSchema(t *testing.T) *schema {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(mustRead(t, schemaFile)))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("%s: %v", schemaFile, err)
	}
	s := &schema{root: root, patterns: make(map[string]*regexp.Regexp)}
	var walk func(node any, path string)
	walk = func(node any, path string) {
		m, ok := node.(map[string]any)
		if !ok {
			t.Fatalf("%s: schema at %s is %T, want an object", schemaFile, path, node)
		}
		for k, x := range m {
			if !slices.Contains(schemaKeywords, k) {
				t.Errorf("%s: keyword %q at %s is not supported by the test's validator", schemaFile, k, path)
			}
			switch k {
			case "properties", "$defs":
				for name, sub := range x.(map[string]any) {
					walk(sub, path+"/"+k+"/"+name)
				}
			case "items", "propertyNames":
				walk(x, path+"/"+k)
			case "additionalProperties":
				if _, isBool := x.(bool); !isBool {
					walk(x, path+"/"+k)
				}
			case "oneOf", "anyOf":
				for i, sub := range x.([]any) {
					walk(sub, fmt.Sprintf("%s/%s/%d", path, k, i))
				}
			case "pattern":
				re, err := regexp.Compile(x.(string))
				if err != nil {
					t.Errorf("%s: pattern at %s: %v", schemaFile, path, err)
					continue
				}
				s.patterns[x.(string)] = re
			case "$ref":
				if _, err := s.ref(x.(string)); err != nil {
					t.Errorf("%s: %s: %v", schemaFile, path, err)
				}
			}
		}
	}
	walk(root, "#")
	if t.Failed() {
		t.FailNow()
	}
	return s
}

func (s *schema) ref(ref string) (map[string]any, error) {
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	if !ok {
		return nil, fmt.Errorf("$ref %q is not to #/$defs", ref)
	}
	def, ok := s.root["$defs"].(map[string]any)[name].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("$ref %q names no definition", ref)
	}
	return def, nil
}

// validate returns why doc does not match the schema; nothing if it does.
func (s *schema) validate(doc any) []string {
	return s.check(s.root, doc, "")
}

func (s *schema) check(sch map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) {
		errs = append(errs, "/"+strings.TrimPrefix(path, "/")+": "+fmt.Sprintf(format, args...))
	}
	if r, ok := sch["$ref"].(string); ok {
		def, err := s.ref(r)
		if err != nil {
			fail("%v", err)
			return errs
		}
		errs = append(errs, s.check(def, v, path)...)
	}
	if typ, ok := sch["type"]; ok {
		var types []string
		switch typ := typ.(type) {
		case string:
			types = []string{typ}
		case []any:
			for _, x := range typ {
				types = append(types, x.(string))
			}
		}
		if !slices.ContainsFunc(types, func(want string) bool { return hasType(v, want) }) {
			fail("%s is not of type %s", jsonText(v), strings.Join(types, ", "))
			return errs // the other keywords would only repeat it
		}
	}
	if enum, ok := sch["enum"].([]any); ok {
		if !slices.ContainsFunc(enum, func(e any) bool { return jsonText(e) == jsonText(v) }) {
			fail("%s is not one of %s", jsonText(v), jsonText(enum))
		}
	}
	switch v := v.(type) {
	case string:
		if p, ok := sch["pattern"].(string); ok && !s.patterns[p].MatchString(v) {
			fail("%q does not match %s", v, p)
		}
		if n, ok := number(sch["maxLength"]); ok && float64(utf8.RuneCountInString(v)) > n {
			fail("%q is longer than %v characters", v, n)
		}
	case json.Number:
		x, _ := number(v)
		if n, ok := number(sch["minimum"]); ok && x < n {
			fail("%v is less than %v", v, n)
		}
		if n, ok := number(sch["maximum"]); ok && x > n {
			fail("%v is more than %v", v, n)
		}
	case []any:
		if n, ok := number(sch["minItems"]); ok && float64(len(v)) < n {
			fail("has %d items, fewer than %v", len(v), n)
		}
		if n, ok := number(sch["maxItems"]); ok && float64(len(v)) > n {
			fail("has %d items, more than %v", len(v), n)
		}
		if items, ok := sch["items"].(map[string]any); ok {
			for i, x := range v {
				errs = append(errs, s.check(items, x, fmt.Sprintf("%s/%d", path, i))...)
			}
		}
	case map[string]any:
		errs = append(errs, s.checkObject(sch, v, path)...)
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		subs, ok := sch[kw].([]any)
		if !ok {
			continue
		}
		matched := 0
		var why []string
		for _, sub := range subs {
			e := s.check(sub.(map[string]any), v, path)
			if len(e) == 0 {
				matched++
			}
			why = append(why, e...)
		}
		switch {
		case matched == 0:
			fail("matches none of %s: %s", kw, strings.Join(why, "; "))
		case kw == "oneOf" && matched > 1:
			fail("matches %d of oneOf, want exactly 1", matched)
		}
	}
	return errs
}

func (s *schema) checkObject(sch map[string]any, v map[string]any, path string) []string {
	var errs []string
	if n, ok := number(sch["minProperties"]); ok && float64(len(v)) < n {
		errs = append(errs, fmt.Sprintf("%s: has %d properties, fewer than %v", path, len(v), n))
	}
	if req, ok := sch["required"].([]any); ok {
		for _, r := range req {
			if _, ok := v[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: missing required property %q", path, r))
			}
		}
	}
	props, _ := sch["properties"].(map[string]any)
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sub := path + "/" + k
		if names, ok := sch["propertyNames"].(map[string]any); ok {
			errs = append(errs, s.check(names, k, sub+" (name)")...)
		}
		if p, ok := props[k].(map[string]any); ok {
			errs = append(errs, s.check(p, v[k], sub)...)
			continue
		}
		switch ap := sch["additionalProperties"].(type) {
		case bool:
			if !ap {
				errs = append(errs, fmt.Sprintf("%s: property %q is not allowed", path, k))
			}
		case map[string]any:
			errs = append(errs, s.check(ap, v[k], sub)...)
		}
	}
	return errs
}

// hasType reports whether a decoded JSON value is of a JSON Schema type.
func hasType(v any, typ string) bool {
	switch typ {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		r, ok := new(big.Rat).SetString(n.String())
		return ok && r.IsInt()
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// jsonText is v as JSON, for comparing values and for messages.
func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSchemaValidator checks the validator itself on small cases.
func TestSchemaValidator(t *testing.T) {
	v := loadSchema(t)
	for _, tt := range []struct {
		src string
		ok  bool
	}{
		{minimal, true},
		{"states: {a: {prompt: Hi}}\n", false},                             // required
		{minimal + "    extra: 1\n", false},                                // additionalProperties
		{minimal + "    on: [{else: false, end: true}]\n", false},          // enum
		{minimal + "    on: [{else: true}]\n", false},                      // anyOf required
		{minimal + "    on: [{else: true, goto: a, handoff: q}]\n", false}, // oneOf
		{minimal + "    on: [{after: 2h, end: true}]\n", true},
		{minimal + "    on: [{after: soon, end: true}]\n", false}, // pattern
		{"business: Acme\nstates: {}\n", false},                   // minProperties
		{"business: Acme\nstates: {1a: {prompt: Hi}}\n", false},   // propertyNames
		{"business: Acme\ntopics: {t: {category: utility, description: d, frequency_cap: 0}}\nstates: {a: {prompt: Hi}}\n", false},                            // minimum
		{"business: Acme\ntopics: {t: {category: utility, description: d, frequency_cap: 1.5}}\nstates: {a: {prompt: Hi}}\n", false},                          // integer
		{"business: Acme\nstates: {a: {prompt: {text: Hi, buttons: [{id: a, title: t}, {id: b, title: t}, {id: c, title: t}, {id: d, title: t}]}}}\n", false}, // maxItems
		{"business: Acme\nstates: {a: {prompt: {text: Hi, buttons: [{id: a, title: 123456789012345678901}]}}}\n", true},                                       // a number has no length
		{"business: Acme\nstates: {a: {prompt: {text: Hi, buttons: [{id: a, title: '123456789012345678901'}]}}}\n", false},                                    // maxLength
		{"business: Acme\nstates: {a: {prompt: {text: Hi, list: {button: Go, rows: []}}}}\n", false},                                                          // minItems
		{"business: Acme\nhelp: {en: Help, fr: Aide}\nstates: {a: {prompt: Hi}}\n", true},                                                                     // anyOf: a mapping of languages
		{"business: Acme\nhelp: {en: Help, French: Aide}\nstates: {a: {prompt: Hi}}\n", false},                                                                // anyOf: not a language
		{"business: Acme\nhelp: {}\nstates: {a: {prompt: Hi}}\n", false},                                                                                      // anyOf: no language
		{"business: Acme\nmessages: {stopped: [Bye]}\nstates: {a: {prompt: Hi}}\n", false},                                                                    // anyOf: neither
		{"business: Acme\ntopics: {t: {category: utility, description: {en: d, fr: \" \"}}}\nstates: {a: {prompt: Hi}}\n", false},                             // blank text in a mapping
		{"business: Acme\ntopics: {t: {category: utility, description: {en: d, fr: e}}}\nstates: {a: {prompt: Hi}}\n", true},
	} {
		doc, err := yamlToJSON([]byte(tt.src))
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		if errs := v.validate(doc); (len(errs) == 0) != tt.ok {
			t.Errorf("%q: valid = %v, want %v: %q", tt.src, len(errs) == 0, tt.ok, errs)
		}
	}
}
