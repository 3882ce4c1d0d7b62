package runners

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestGroupJournalDurableOnReturn: sessions recording at once into one
// progress journal each find their own lines in the file when record
// returns, and every line is there once at the end.
func TestGroupJournalDurableOnReturn(t *testing.T) {
	for _, sessions := range []int{1, 4, 16} {
		t.Run(fmt.Sprint(sessions), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".progress-x")
			jn, _, _, err := openJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			defer jn.Close()
			g := newGroupJournal(jn)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			const per = 30
			var wg sync.WaitGroup
			errs := make(chan error, sessions*per)
			for s := range sessions {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range per {
						line := fmt.Sprintf("ok s%d-%d@subs.test\n", s, i)
						if err := g.record(context.Background(), log, line, nil); err != nil {
							errs <- err
							return
						}
						b, err := os.ReadFile(path)
						if err != nil || !strings.Contains(string(b), line) {
							errs <- fmt.Errorf("record of %q returned before the line was in the journal (%v)", line, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			done, _ := parseJournal(b)
			if n := strings.Count(string(b), "\n"); n != sessions*per || len(done) != sessions*per {
				t.Fatalf("journal holds %d lines for %d recipients, want %d once each", n, len(done), sessions*per)
			}
		})
	}
}
