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
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/lists"
	"cloister/queue"
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
			done, _ := parseJournal(queue.JournalLines(b))
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
	if err != nil || string(queue.JournalLines(b)) != want.String() {
		t.Fatalf("journal %q (%v), want %q", queue.JournalLines(b), err, want.String())
	}
	os.Remove(path) // a write now would go to the unlinked file: nothing is written
	if err := g.wait(context.Background(), log, tickets[0], nil); err != nil {
		t.Fatal(err)
	}
	if g.written != uint64(len(tickets)) {
		t.Fatalf("written %d, want %d", g.written, len(tickets))
	}
}

// TestGroupJournalSyncs: what the sessions' waits write is synced by the
// group commit, not by each wait: with the interval longer than the test,
// a hundred records make no sync and finish makes one that covers them all;
// with a short one, the timer syncs what was written without a finish; a
// record (the scoring of refusals) is synced when it returns; a finish
// with nothing written makes no sync.
func TestGroupJournalSyncs(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	open := func(t *testing.T) *groupJournal {
		jn, _, _, err := openJournal(filepath.Join(t.TempDir(), ".progress-x"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { jn.Close() })
		return newGroupJournal(jn)
	}
	// write has n sessions' waits write a line each.
	write := func(t *testing.T, g *groupJournal, n int) {
		for i := range n {
			if err := g.wait(ctx, log, g.add(fmt.Sprintf("ok r%d@subs.test\n", i)), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	window := func(t *testing.T, d time.Duration) {
		old := journalSyncWithin
		journalSyncWithin = d
		t.Cleanup(func() { journalSyncWithin = old })
	}
	t.Run("finish", func(t *testing.T) {
		window(t, time.Hour)
		g := open(t)
		write(t, g, 100)
		// The first line grew the file, which is fsynced; the others wait.
		if g.syncs != 0 || g.written != 100 || g.synced >= 100 {
			t.Fatalf("before finish: %d syncs, %d written, %d synced; want 0, 100, fewer", g.syncs, g.written, g.synced)
		}
		if err := g.finish(ctx, log, nil); err != nil {
			t.Fatal(err)
		}
		if g.syncs != 1 || g.synced != 100 || g.jn.unsynced {
			t.Fatalf("after finish: %d syncs, %d synced (unsynced %v); want 1, 100", g.syncs, g.synced, g.jn.unsynced)
		}
		if err := g.finish(ctx, log, nil); err != nil || g.syncs != 1 {
			t.Fatalf("a second finish: %v, %d syncs", err, g.syncs)
		}
	})
	t.Run("timer", func(t *testing.T) {
		window(t, time.Millisecond)
		g := open(t)
		write(t, g, 3)
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
			g.mu.Lock()
			synced, written := g.synced, g.written
			g.mu.Unlock()
			if synced == written {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the timer never synced: %d of %d written records synced", synced, written)
			}
		}
		if err := g.finish(ctx, log, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("record", func(t *testing.T) {
		window(t, time.Hour)
		g := open(t)
		write(t, g, 2)
		if err := g.record(ctx, log, "scored r1@subs.test\n", nil); err != nil {
			t.Fatal(err)
		}
		if g.synced != 3 || g.jn.unsynced {
			t.Fatalf("record returned with %d of 3 records synced (unsynced %v)", g.synced, g.jn.unsynced)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		g := open(t)
		if err := g.finish(ctx, log, nil); err != nil || g.syncs != 0 {
			t.Fatalf("finish of an empty journal: %v, %d syncs", err, g.syncs)
		}
	})
}

// TestParallelEncryptedFanoutGate: an encrypted post to enough subscribers
// for its copies to go out on smtp_sessions sessions at once passes the
// egress gate copy by copy on every session, each copy to its subscriber
// once; under -race it guards that the sessions do not share a gate (its
// pgp.Checker is not safe for concurrent use). The large post's copies are
// over streamGateAbove: each session's gate reads its copies from their
// parts as they are written, and each copy still passes.
func TestParallelEncryptedFanoutGate(t *testing.T) {
	for _, tt := range []struct {
		name  string
		lines int // of 50 bytes
		n     int
	}{
		{"small", 200, 2 * parallelFanout},
		{"large", streamGateAbove/50 + 1000, 12},
	} {
		t.Run(tt.name, func(t *testing.T) { parallelEncryptedFanout(t, tt.lines, tt.n) })
	}
}

func parallelEncryptedFanout(t *testing.T, lines, n int) {
	s := newTestSite(t)
	s.sink.Discard = true
	if s.Config.SMTPSessions < 2 {
		t.Fatalf("smtp_sessions %d: the fan-out would not be parallel", s.Config.SMTPSessions)
	}
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}
	listKey, err := openpgp.NewEntity("team", "", "team@lists.test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	keys := &memKeys{list: openpgp.EntityList{listKey}, subs: map[string]*openpgp.Entity{}}
	err = s.Lists.Update(func(tx *lists.Tx) error {
		for i := range n {
			addr := fmt.Sprintf("member%05d@subs.test", i)
			e, err := openpgp.NewEntity("m", "", addr, cfg)
			if err != nil {
				return err
			}
			keys.subs[addr] = e
			if err := tx.AddMember("team@lists.test", &lists.Member{Address: addr}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Keys = keys
	body := "From: bob@subs.test\nSubject: parallel\nContent-Type: text/plain\n\n" + strings.Repeat("a line of an encrypted post, fifty bytes long....\n", lines)
	before := s.sink.Delivered.Load()
	queueDecryptedPost(t, s, body, 1)
	runPipelineOutgoing(t, s)
	for _, q := range []string{queue.Out, queue.Retry, queue.Bad} {
		if c := s.count(t, q); c != 0 {
			t.Fatalf("%d entries in %s; log:\n%s", c, q, s.logs.String())
		}
	}
	// The members and the three addresses the test site's list has besides.
	if got := s.sink.Delivered.Load() - before; got != int64(n)+3 {
		t.Fatalf("sink got %d recipients, want %d", got, n+3)
	}
}
