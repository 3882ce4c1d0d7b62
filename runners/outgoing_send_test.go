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

// TestGroupJournalWaitCoversEarlierLines: lines added and not yet waited for
// are made durable by a later ticket's wait, in one write, in the order
// they were added; a wait for an earlier ticket then has nothing to do.
func TestGroupJournalWaitCoversEarlierLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".progress-x")
	jn, _, _, err := openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer jn.Close()
	g := newGroupJournal(jn)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var tickets []uint64
	var want strings.Builder
	for i := range 4 {
		line := fmt.Sprintf("ok s%d@subs.test\n", i)
		want.WriteString(line)
		tickets = append(tickets, g.add(line))
	}
	if g.add("") != 0 {
		t.Fatal("no lines got a ticket")
	}
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Fatalf("add wrote %q before any wait", b)
	}
	if err := g.wait(context.Background(), log, tickets[len(tickets)-1], nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != want.String() {
		t.Fatalf("journal %q (%v), want %q", b, err, want.String())
	}
	os.Remove(path) // a write now would go to the unlinked file: nothing is written
	if err := g.wait(context.Background(), log, tickets[0], nil); err != nil {
		t.Fatal(err)
	}
	if g.synced != uint64(len(tickets)) {
		t.Fatalf("synced %d, want %d", g.synced, len(tickets))
	}
}
