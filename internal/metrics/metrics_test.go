package metrics

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/site"
	"cloister/queue"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestBeatState(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name string
		beat Beat
		want string
	}{
		{"ticked just now", Beat{PID: os.Getpid(), Tick: now.Add(-time.Second)}, StateAlive},
		{"no tick for a minute", Beat{PID: os.Getpid(), Tick: now.Add(-time.Minute)}, StateStale},
		{"process gone", Beat{PID: deadPID(t), Tick: now}, StateGone},
		{"no pid", Beat{Tick: now}, StateGone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.beat.State(now, MaxTickAge); got != tt.want {
				t.Errorf("State = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHeartbeatWriteReadClose(t *testing.T) {
	state := t.TempDir()
	processed := NewProcessed()
	h, err := NewHeartbeat(state, "outgoing", queue.Slice{I: 1, N: 2}, processed)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(h.Path) != "outgoing.1-2.pid" {
		t.Errorf("heartbeat file %s", h.Path)
	}
	processed["done"].Add(3)
	processed["bad"].Add(1)
	// Within Every nothing is written; after it the counts are.
	h.Tick(time.Now())
	beats, _ := ReadBeats(state)
	if len(beats) != 1 || beats[0].Processed["done"] != 0 {
		t.Fatalf("before Every: %+v", beats)
	}
	h.Tick(time.Now().Add(2 * time.Second))
	beats, err = ReadBeats(state)
	if err != nil {
		t.Fatal(err)
	}
	if len(beats) != 1 {
		t.Fatalf("beats: %+v", beats)
	}
	b := beats[0]
	if b.Runner != "outgoing" || b.Slice != "1/2" || b.PID != os.Getpid() || b.Processed["done"] != 3 || b.Processed["bad"] != 1 {
		t.Errorf("beat %+v", b)
	}
	// Junk in the run dir is skipped, not fatal.
	os.WriteFile(filepath.Join(RunDir(state), "junk.pid"), []byte("{not json"), 0o600)
	os.WriteFile(filepath.Join(RunDir(state), "big.pid"), bytes.Repeat([]byte("x"), maxBeatSize+10), 0o600)
	if beats, err := ReadBeats(state); err != nil || len(beats) != 1 {
		t.Fatalf("with junk: %v %+v", err, beats)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(h.Path); !os.IsNotExist(err) {
		t.Errorf("Close left %s", h.Path)
	}
}

func TestWriteTextGolden(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	snap := &Snapshot{
		Now: now,
		Queues: []QueueDepth{
			{Name: "in", Pending: 2, Claimed: 1, Oldest: 1500 * time.Millisecond},
			{Name: "bad", Pending: 1},
		},
		Beats: []Beat{
			{Runner: "incoming", PID: os.Getpid(), Started: now.Add(-time.Hour), Tick: now.Add(-time.Second), Processed: map[string]int64{"done": 7, "bad": 1, "retry": 0, "requeued": 2},
				Counters: map[string]int64{`crypto_operations_total{op="open",tech="pgp"}`: 5, `crypto_microseconds_total{op="open",tech="pgp"}`: 12000}},
			{Runner: "outgoing", Slice: "0/2", PID: deadPID(t), Started: now.Add(-time.Hour), Tick: now.Add(-time.Hour), Processed: map[string]int64{"done": 1},
				Counters: map[string]int64{`smtp_recipients_total{result="accepted"}`: 40, `smtp_recipients_total{result="refused"}`: 1, "smtp_transactions_total": 41, `egress_refused_total{kind="notice"}`: 1,
					`decisions_total{decision="delivered"}`: 3, `decisions_total{decision="bounce recorded"}`: 1}},
		},
	}
	var buf bytes.Buffer
	if err := snap.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "snapshot.prom")
	if *update {
		os.WriteFile(golden, buf.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != string(want) {
		t.Errorf("exposition differs from %s (-update rewrites it):\n%s", golden, buf.String())
	}
	for _, e := range Exported {
		if !strings.Contains(buf.String(), "# TYPE "+e.Name+" "+e.Type+"\n") {
			t.Errorf("no TYPE line for %s", e.Name)
		}
	}
}

func TestQuoteLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"in", `"in"`},
		{`a"b`, `"a\"b"`},
		{"a\\b\nc", `"a\\b\nc"`},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestHandlerScrapesSite(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse([]byte("state_dir = \"" + dir + "\"\ndomain = \"lists.test\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.Queue(queue.In).EnqueueBytes(&queue.Meta{List: "team@lists.test"}, []byte("Subject: x\n\nx\n")); err != nil {
			t.Fatal(err)
		}
	}
	h, err := NewHeartbeat(dir, "incoming", queue.All, NewProcessed())
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(Handler(s))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{
		`cloister_queue_entries{queue="in",state="pending"} 3`,
		`cloister_queue_entries{queue="bad",state="pending"} 0`,
		`cloister_runner_up{runner="incoming",slice="0/1"} 1`,
		`cloister_runner_processed_total{runner="incoming",slice="0/1",outcome="done"} 0`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
	if resp, err := http.Post(srv.URL, "text/plain", nil); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %v %v", err, resp.Status)
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:9469", "nonsense"} {
		if ln, err := Listen(addr); err == nil {
			ln.Close()
			t.Errorf("Listen(%q) succeeded", addr)
		}
	}
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

// FuzzReadBeats feeds arbitrary heartbeat files to ReadBeats: it must skip or
// read them, never panic, and never return a beat without a runner.
func FuzzReadBeats(f *testing.F) {
	f.Add([]byte(`{"runner":"incoming","pid":1,"tick":"2026-01-01T00:00:00Z","processed":{"done":1}}`))
	f.Add([]byte(`{"runner":"","pid":-1}`))
	f.Add([]byte(`{"runner":"x","processed":{"done":"many"}}`))
	f.Add([]byte("\x00\xff{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		state := t.TempDir()
		os.MkdirAll(RunDir(state), 0o750)
		os.WriteFile(filepath.Join(RunDir(state), "r.pid"), data, 0o600)
		beats, err := ReadBeats(state)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range beats {
			if b.Runner == "" {
				t.Fatalf("beat without a runner: %+v", b)
			}
			b.State(time.Now(), MaxTickAge)
		}
	})
}
