package bot

import (
	"os/exec"
	"strings"
	"testing"
)

// The domain imports no infrastructure: no store, adapter, bus, SQL or HTTP
// package may reach bot or flows, even indirectly.
func TestDomainImportsNoInfrastructure(t *testing.T) {
	forbidden := []string{
		"github.com/optinbot/optinbot/store", "github.com/optinbot/optinbot/adapters",
		"github.com/optinbot/optinbot/cmd", "github.com/nats-io/", "github.com/jmoiron/sqlx",
		"github.com/lib/pq", "modernc.org/sqlite", "net/http", "database/sql",
		"github.com/prometheus/",
	}
	for _, pkg := range []string{"github.com/optinbot/optinbot/bot", "github.com/optinbot/optinbot/flows"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
