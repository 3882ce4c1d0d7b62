package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cloister/lists"
	"cloister/mailmsg"
	"cloister/queue"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testList is the list every golden case posts to.
const testList = "team@lists.example.test"

// caseConfig is the optional CASE.json beside a golden input.
type caseConfig struct {
	Settings json.RawMessage `json:"settings"` // merged over the list defaults
	Meta     *queue.Meta     `json:"meta"`
	Pipeline []string        `json:"pipeline"` // default: the directory's handler, or DefaultPipeline for "pipeline"
	// DNS answers for the fake resolver: name -> TXT records; the values
	// "NXDOMAIN", "SERVFAIL" and "TIMEOUT" stand for those outcomes.
	DNS map[string][]string `json:"dns"`
}

// fakeResolver answers from a table; names not in it do not exist.
type fakeResolver struct {
	answers map[string][]string
	mu      sync.Mutex
	queries []string
}

func (f *fakeResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	f.mu.Lock()
	f.queries = append(f.queries, name)
	f.mu.Unlock()
	a, ok := f.answers[name]
	switch {
	case !ok || (len(a) == 1 && a[0] == "NXDOMAIN"):
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	case len(a) == 1 && a[0] == "SERVFAIL":
		return nil, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	case len(a) == 1 && a[0] == "TIMEOUT":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return a, nil
}

// newTestContext builds the context of a golden case.
func newTestContext(t testing.TB, raw []byte, cfg caseConfig) *Context {
	t.Helper()
	l, err := lists.NewList(testList, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatalf("new list: %v", err)
	}
	l.Description = "Team discussion"
	if len(cfg.Settings) > 0 {
		if err := json.Unmarshal(cfg.Settings, &l.Settings); err != nil {
			t.Fatalf("settings: %v", err)
		}
	}
	msg, err := mailmsg.Parse(raw)
	if err != nil {
		t.Fatalf("parse input: %v", err)
	}
	meta := cfg.Meta
	if meta == nil {
		meta = &queue.Meta{List: testList, Subaddress: queue.SubPost}
	}
	return &Context{
		List:         l,
		Domain:       "lists.example.test",
		Meta:         meta,
		Msg:          msg,
		Resolver:     &fakeResolver{answers: cfg.DNS},
		Now:          time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC),
		Rand:         rand.NewChaCha8([32]byte{1, 2, 3}),
		DMARCTimeout: 50 * time.Millisecond,
	}
}

// runCase runs one golden case and returns its output: the message bytes,
// or "ERROR: ..." when the pipeline refused the post.
func runCase(t *testing.T, in string) []byte {
	raw, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var cfg caseConfig
	if js, err := os.ReadFile(strings.TrimSuffix(in, ".eml") + ".json"); err == nil {
		if err := json.Unmarshal(js, &cfg); err != nil {
			t.Fatalf("%s.json: %v", in, err)
		}
	}
	names := cfg.Pipeline
	if names == nil {
		dir := filepath.Base(filepath.Dir(in))
		if dir == "pipeline" {
			names = DefaultPipeline()
		} else {
			names = []string{dir}
		}
	}
	ctx := newTestContext(t, raw, cfg)
	if _, err := Run(names, ctx); err != nil {
		return []byte(fmt.Sprintf("ERROR: %v\n", err))
	}
	return ctx.Msg.Bytes()
}

// TestGolden runs every testdata/HANDLER/CASE.eml through the handler (or
// the default pipeline for testdata/pipeline) and compares the output with
// CASE.golden byte for byte. Run with -update to rewrite the golden files.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*/*.eml")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) < 30 {
		t.Fatalf("only %d golden inputs found", len(inputs))
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(strings.TrimPrefix(in, "testdata/"), ".eml")
		t.Run(name, func(t *testing.T) {
			got := runCase(t, in)
			golden := strings.TrimSuffix(in, ".eml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}
