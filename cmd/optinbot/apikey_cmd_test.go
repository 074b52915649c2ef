package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// apikey create prints a token once and stores only its hash; list shows
// it without the secret; revoke revokes it.
func TestAPIKeyCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "optinbot.db")
	flow, _ := filepath.Abs(filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	cfg := filepath.Join(dir, "optinbot.yaml")
	writeFile(t, cfg, fmt.Sprintf("store:\n  dsn: sqlite:%s\nbusinesses:\n  - id: acme\n    flow: %s\n    senders: [\"1\"]\n", db, flow))

	out, errOut, err := runCLI(t, "", "apikey", "create", "--config", cfg, "--business", "acme", "--label", "crm")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, errOut)
	}
	token := strings.TrimSpace(out)
	if !strings.HasPrefix(token, "obk_") || !strings.Contains(errOut, "cannot be shown again") {
		t.Fatalf("create printed %q / %q", out, errOut)
	}
	id := strings.Split(token, "_")[1]
	secret := token[len("obk_")+len(id)+1:]

	st := openSQLite(t, db)
	k, err := st.APIKey(t.Context(), id)
	if err != nil || k.Business != "acme" || k.Label != "crm" || !k.Matches(secret) || strings.Contains(k.SecretHash, secret) {
		t.Fatalf("stored key %+v, %v: want acme's, matching the token, holding only a hash", k, err)
	}
	st.Close()

	out, _, err = runCLI(t, "", "apikey", "list", "--config", cfg, "--business", "acme")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "active") || strings.Contains(out, secret) {
		t.Errorf("list: %v\n%s", err, out)
	}
	if _, _, err := runCLI(t, "", "apikey", "revoke", "--config", cfg, "--business", "acme", id); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	out, _, _ = runCLI(t, "", "apikey", "list", "--config", cfg, "--business", "acme")
	if !strings.Contains(out, "revoked") {
		t.Errorf("list after revoke:\n%s", out)
	}
	if _, _, err := runCLI(t, "", "apikey", "create", "--config", cfg, "--business", "globex"); err == nil {
		t.Error("a key for a business the config does not name was created")
	}
	if _, _, err := runCLI(t, "", "apikey", "revoke", "--config", cfg, "--business", "acme", "0000000000000000"); err == nil {
		t.Error("revoking an unknown key succeeded")
	}
}
