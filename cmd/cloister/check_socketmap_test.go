package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/config"
	"cloister/mta"
)

// TestCheckAsksTheSocketmap: cloister check asks the running socketmap for
// every list and served domain, and says so; when Postfix's main.cf names a
// socketmap that does not answer, that is a problem that says what to start.
func TestCheckAsksTheSocketmap(t *testing.T) {
	cfgPath := newSite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "socketmap_listen = %q\ndomains = [\"second.test\"]\n", ln.Addr().String())
	f.Close()
	for _, l := range []string{"team", "news@second.test"} {
		if out, err := cli(t, "--config", cfgPath, "list", "create", l); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- (&mta.Socketmap{IndexPath: cfg.IndexPath(), Domains: cfg.ServedDomains()}).Serve(ctx, ln)
	}()
	postfix := t.TempDir()
	os.WriteFile(filepath.Join(postfix, "main.cf"), []byte("relay_recipient_maps = "+mta.SocketmapTable(ln.Addr().String(), "recipients")+"\n"), 0o644)
	check := func() string {
		out, _ := cli(t, "--config", cfgPath, "check", "--postfix-dir", postfix, "--exim-lists", "", "--mta-timeout", "1s")
		return out
	}
	if out := check(); !strings.Contains(out, "the socketmap at "+ln.Addr().String()+" answers for 2 lists in lists.test, second.test") {
		t.Errorf("check with the socketmap running:\n%s", out)
	}
	cancel()
	<-done
	if out := check(); !strings.Contains(out, "does not answer") || !strings.Contains(out, "start cloister-socketmap") {
		t.Errorf("check with the socketmap down:\n%s", out)
	}
}
