package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the optinbot command line in-process.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// The README's first command: the demo answers "hi" with the opt-in
// request, takes a digit for a button, and prints consent as it changes.
func TestDemoPipedChat(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	input := "hi\n1\nhelp\nSTOP please\n\nSTART\n2\n"
	out, _, err := runCLI(t, input, "demo", "--db", db)
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	golden(t, "demo_chat.golden", out)
	if !strings.HasPrefix(out, "bot: Hi, thanks for writing to Acme Outfitters! Would you like to get updates") {
		t.Errorf("the first reply is not the opt-in request:\n%s", out)
	}
	// The ledger outlives the demo in the --db file.
	out2, _, err := runCLI(t, "START\n", "demo", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out2, "no paused Acme Outfitters subscription") {
		t.Errorf("a second demo on the same database lost the state:\n%s", out2)
	}
}

func TestDemoRejectsBadCustomer(t *testing.T) {
	_, _, err := runCLI(t, "", "demo", "--as", "12345")
	if err == nil || !strings.Contains(err.Error(), "--as") {
		t.Errorf("err = %v, want a --as error", err)
	}
}
