package commands

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/queue"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestHelpGolden keeps the help text (generated from the command table) in
// testdata/help.golden; go test -run TestHelpGolden -update rewrites it.
func TestHelpGolden(t *testing.T) {
	got := HelpText("team@lists.example.org") + "\n"
	path := filepath.Join("testdata", "help.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("help text differs from %s (run with -update if intended):\n%s", path, got)
	}
	for _, c := range All {
		if !strings.Contains(got, "  "+usage(c)) {
			t.Errorf("help lacks %q", usage(c))
		}
	}
}

// BenchmarkHandleJunk measures the answer to a command mail of 10,000 lines
// of junk (parsed within bounds, 20 lines answered).
func BenchmarkHandleJunk(b *testing.B) {
	s, l := testSite(b)
	var sb strings.Builder
	sb.WriteString("From: dan@else.test\nSubject: x\n\n")
	for i := 0; i < 10000; i++ {
		sb.WriteString("junk line " + itoa(i) + "\n")
	}
	body := sb.String()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &queue.Meta{ID: "e" + itoa(i), List: l.Address, Subaddress: queue.SubRequest, Sender: "dan@else.test", From: "dan@else.test", Encryption: "none", Auth: "smtp"}
		out, err := Handle(newRequest(s, l, m, body, time.Now()))
		if err != nil || len(out.Mail) != 1 {
			b.Fatal(err)
		}
	}
}
