package notices

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestAllowRefusalNotice: RefusalNoticeLimit notices per sender in a
// window, counted apart for each sender (case-insensitively), again after
// the window; a damaged counter file starts afresh.
func TestAllowRefusalNotice(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	steps := []struct {
		addr string
		at   time.Duration
		want bool
	}{
		{"eve@else.test", 0, true},
		{"Eve@Else.test", time.Minute, true},
		{"eve@else.test", 2 * time.Minute, true},
		{"eve@else.test", 3 * time.Minute, false},
		{"dan@else.test", 3 * time.Minute, true},
		{"eve@else.test", RefusalNoticeWindow - time.Second, false},
		{"eve@else.test", RefusalNoticeWindow, true},
	}
	for i, st := range steps {
		got, err := AllowRefusal(dir, st.addr, t0.Add(st.at))
		if err != nil || got != st.want {
			t.Fatalf("step %d (%s at %v): %v, %v; want %v", i, st.addr, st.at, got, err, st.want)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, noticeLimitFile))
	if err != nil || len(b) == 0 {
		t.Fatalf("counters not written: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, noticeLimitFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := AllowRefusal(dir, "eve@else.test", t0); err != nil || !got {
		t.Fatalf("after a damaged file: %v, %v", got, err)
	}
}
