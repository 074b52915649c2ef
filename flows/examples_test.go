package flows

import (
	"io/fs"
	"testing"

	"github.com/optinbot/optinbot/flows/examples"
)

// TestExamples loads every shipped example flow, which must be clean.
func TestExamples(t *testing.T) {
	names, err := fs.Glob(examples.FS, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no example flows")
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			src, err := fs.ReadFile(examples.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Load(name, src)
			if err != nil {
				t.Fatalf("example does not load:\n%v", err)
			}
			checkInvariants(t, f)
		})
	}
}

func TestRetail(t *testing.T) {
	src, err := fs.ReadFile(examples.FS, examples.Retail)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Load(examples.Retail, src)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "retail" || f.Business != "Acme Outfitters" || f.Start != "welcome" || len(f.States) != 4 {
		t.Errorf("retail = %q %q start %q, %d states", f.Name, f.Business, f.Start, len(f.States))
	}
	welcome := f.States["welcome"]
	if len(welcome.Prompt.Buttons) != 2 || len(welcome.On) != 3 || welcome.On[0].OptIn != "order_updates" {
		t.Errorf("welcome = %+v", welcome)
	}
}
