package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHeldExpireCLI: cloister held expire runs through the service on the
// local site, and in remote mode goes to the API daemon (here: none
// listening, which the client says).
func TestHeldExpireCLI(t *testing.T) {
	cfg := newSite(t)
	out, err := cli(t, "--config", cfg, "held", "expire")
	if err != nil || !strings.Contains(out, "expired 0 held posts, purged 0 tokens") {
		t.Fatalf("held expire: %v\n%s", err, out)
	}
	tok := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tok, []byte("clt_0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = cli(t, "--config", cfg, "--api", "unix:"+filepath.Join(t.TempDir(), "api.sock"), "--token-file", tok, "held", "expire")
	if err == nil || !strings.Contains(err.Error(), "the API daemon cannot be reached") || !strings.Contains(err.Error(), "/v1/held/expire") {
		t.Fatalf("held expire through the API: %v\n%s", err, out)
	}
}
