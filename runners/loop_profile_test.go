package runners

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/queue"
)

// TestLoopCPUProfile: with ProfileEnv naming a file, a loop writes a CPU
// profile there (gzip-compressed protobuf) by the time Run returns; a file
// that cannot be made is logged and the loop runs as without.
func TestLoopCPUProfile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, path string
		want       bool   // a profile is written
		log        string // in the log
	}{
		{"written", filepath.Join(dir, "out.pprof"), true, `msg="writing a CPU profile"`},
		{"no folder", filepath.Join(dir, "missing", "out.pprof"), false, `level=WARN msg="no CPU profile"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(ProfileEnv, tc.path)
			s := newTestSite(t)
			l := &Loop{Site: s.Site, Runner: Incoming{}, Slice: queue.All, Once: true}
			if err := l.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(tc.path)
			if tc.want && (err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b})) {
				t.Fatalf("no gzip profile at %s: %v (%d bytes)", tc.path, err, len(b))
			}
			if !tc.want && err == nil {
				t.Fatalf("a profile at %s", tc.path)
			}
			if !strings.Contains(s.logs.String(), tc.log) {
				t.Fatalf("log lacks %s:\n%s", tc.log, s.logs.String())
			}
		})
	}
}
