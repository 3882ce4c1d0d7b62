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
	if g.synced != uint64(len(tickets)) {
		t.Fatalf("synced %d, want %d", g.synced, len(tickets))
	}
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
