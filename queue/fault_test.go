package queue

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloister/internal/safeio"
)

// full makes every named write point fail with ENOSPC, as a full disk does,
// until the returned function is called.
func full(points ...string) func() {
	FaultHook = func(p string) error {
		for _, q := range points {
			if p == q {
				return &os.PathError{Op: p, Path: "queue", Err: syscall.ENOSPC}
			}
		}
		return nil
	}
	return func() { FaultHook = nil }
}

// TestWriteFaultsLeaveNothing fails each write of each write path of the
// queue with ENOSPC: the error says so, nothing half-written is left (the
// exact files of every queue are those before), the claim is still held, and
// once space returns the same call succeeds.
func TestWriteFaultsLeaveNothing(t *testing.T) {
	points := []string{PointCreate, PointWrite, PointSync, PointRename}
	type op struct {
		name string
		// run performs the write; claim is a claimed entry of in.
		run func(in, out, bad *Queue, claim *Entry) error
	}
	ops := []op{
		{"enqueue", func(in, out, bad *Queue, _ *Entry) error {
			_, err := in.EnqueueBytes(&Meta{List: "l@x"}, []byte("new message"))
			return err
		}},
		{"hand-over", func(in, out, bad *Queue, e *Entry) error {
			m := e.Meta.Clone()
			return in.Commit(e, []Output{{Queue: out, Meta: m, Body: strings.NewReader("handed")}})
		}},
		{"hand-over to two", func(in, out, bad *Queue, e *Entry) error {
			m := e.Meta.Clone()
			n := e.Meta.Clone()
			n.ID += "-1"
			return in.Commit(e, []Output{{Queue: out, Meta: m, Body: strings.NewReader("one")}, {Queue: bad, Meta: n, Body: strings.NewReader("two"), NotBefore: time.Now()}})
		}},
		{"put back", func(in, out, bad *Queue, e *Entry) error { return in.Put(e, e.Meta.Clone(), time.Now().Add(time.Hour)) }},
		{"to bad", func(in, out, bad *Queue, e *Entry) error { return in.ToBad(e, bad, "reason") }},
		{"update", func(in, out, bad *Queue, e *Entry) error { return in.Update(e, e.Meta.Clone()) }},
		{"write file", func(in, out, bad *Queue, e *Entry) error {
			return safeio.WriteFunc(filepath.Join(in.Dir, "state"), 0o600, func(w io.Writer) error { _, err := w.Write([]byte("x")); return err })
		}},
	}
	for _, o := range ops {
		for _, point := range points {
			t.Run(o.name+"/"+point, func(t *testing.T) {
				root := t.TempDir()
				in, _ := Open(root, In)
				out, _ := Open(root, Out)
				bad, _ := Open(root, Bad)
				name, err := in.EnqueueBytes(&Meta{List: "l@x"}, []byte("claimed message"))
				if err != nil {
					t.Fatal(err)
				}
				e, err := in.Claim(name)
				if err != nil {
					t.Fatal(err)
				}
				before := [][]string{files(t, in), files(t, out), files(t, bad)}
				restore := full(point)
				err = o.run(in, out, bad, e)
				restore()
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("err = %v, want ENOSPC", err)
				}
				if errors.Is(err, ErrCommitted) {
					t.Fatalf("err = %v: a failed write is no commit", err)
				}
				after := [][]string{files(t, in), files(t, out), files(t, bad)}
				if fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("files after the failure = %v, before %v", after, before)
				}
				if err := o.run(in, out, bad, e); err != nil {
					t.Fatalf("after space returned: %v", err)
				}
				for _, q := range []*Queue{in, out, bad} {
					for _, f := range files(t, q) {
						if strings.HasPrefix(f, ".") {
							t.Fatalf("queue %s left %s", q.Name, f)
						}
					}
				}
			})
		}
	}
}

// TestCommitFaultAfterCommitPoint: a write failing after the ledger is
// durable leaves a decided hand-over: Commit says so, and Resume (or
// recovery) finishes it without processing the claim again.
func TestCommitFaultAfterCommitPoint(t *testing.T) {
	for _, point := range []string{PointCommitted, PointSyncDir, PointPublished, PointRemove} {
		for _, finish := range []string{"resume", "recover"} {
			t.Run(point+"/"+finish, func(t *testing.T) {
				root := t.TempDir()
				in, _ := Open(root, In)
				out, _ := Open(root, Out)
				bad, _ := Open(root, Bad)
				name, _ := in.EnqueueBytes(&Meta{List: "l@x"}, []byte("m"))
				e, _ := in.Claim(name)
				// Fail the point only once the ledger is written (syncdir is
				// reached before too).
				committed := false
				FaultHook = func(p string) error {
					if p == PointCommitted {
						committed = true
					}
					if committed && p == point {
						return &os.PathError{Op: p, Path: "queue", Err: syscall.EIO}
					}
					return nil
				}
				err := in.Commit(e, []Output{{Queue: out, Meta: e.Meta.Clone(), Body: strings.NewReader("m")}})
				FaultHook = nil
				if !errors.Is(err, ErrCommitted) || !errors.Is(err, syscall.EIO) {
					t.Fatalf("err = %v, want ErrCommitted and EIO", err)
				}
				if finish == "resume" {
					err = in.Resume(e)
				} else {
					var rec int
					rec, _, err = in.Recover(All, bad, 3)
					if err == nil && rec != 1 {
						t.Fatalf("recovered %d, want 1", rec)
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := files(t, in); len(got) != 0 {
					t.Fatalf("in left %v", got)
				}
				if got := files(t, out); len(got) != 1 || got[0] != e.Meta.ID+".msg" {
					t.Fatalf("out holds %v", got)
				}
			})
		}
	}
}

// TestRecoverOldEntries: entries written before generations and ledgers
// existed (no gen field) still recover, and a ledger left by an earlier
// claim of the same name never finishes a later claim.
func TestRecoverOldEntries(t *testing.T) {
	root := t.TempDir()
	in, _ := Open(root, In)
	out, _ := Open(root, Out)
	bad, _ := Open(root, Bad)
	old := []byte(`{"id":"1700000000000000000+ab","list":"l@x","subaddress":"post","sender":"a@x","recipient":"l@x","received":"2023-11-14T22:13:20Z","attempts":0}` + "\nold body\n")
	if err := os.WriteFile(filepath.Join(in.Dir, "1700000000000000000+ab.bak"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	// A stale ledger of an earlier claim of the same name (its outputs long
	// published): it must not finish this claim.
	stale := `{"claim":"1700000000000000000+ab","gen":"0123456789abcdef","outputs":[{"queue":"out","staged":".staged-1-in-0-1700000000000000000+ab","name":"1700000000000000000+ab.msg"}]}`
	if err := os.WriteFile(filepath.Join(in.Dir, ".commit-1700000000000000000+ab"), []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	rec, wb, err := in.Recover(All, bad, 3)
	if err != nil || rec != 1 || wb != 0 {
		t.Fatalf("recover: %d, %d, %v", rec, wb, err)
	}
	got := files(t, in)
	if len(got) != 1 || !strings.HasSuffix(got[0], "+ab.msg") {
		t.Fatalf("in holds %v, want the entry put back (and no ledger)", got)
	}
	if f := files(t, out); len(f) != 0 {
		t.Fatalf("out holds %v", f)
	}
	e, err := in.Claim(strings.TrimSuffix(got[0], ".msg"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := e.Body()
	if e.Meta.Attempts != 1 || e.Meta.Gen == "" || !bytes.Equal(body, []byte("old body\n")) {
		t.Fatalf("put back as %+v %q", e.Meta, body)
	}
	if err := in.Commit(e, []Output{{Queue: out, Meta: e.Meta.Clone(), Body: bytes.NewReader(body)}}); err != nil {
		t.Fatal(err)
	}
	if f := files(t, out); len(f) != 1 || f[0] != "1700000000000000000+ab.msg" {
		t.Fatalf("out holds %v", f)
	}
}

// TestProgressResetsAttempts: a claim interrupted again and again while its
// progress journal grows is never counted; once it stops growing, the
// interruptions count and the entry ends in bad.
func TestProgressResetsAttempts(t *testing.T) {
	root := t.TempDir()
	out, _ := Open(root, Out)
	bad, _ := Open(root, Bad)
	name, _ := out.EnqueueBytes(&Meta{List: "l@x", Recipients: []string{"a@x", "b@x", "c@x", "d@x"}}, []byte("m"))
	e, _ := out.Peek(name)
	journal := filepath.Join(out.Dir, ".progress-"+e.Meta.ID)
	for i, rcpt := range []string{"a@x", "b@x", "c@x", "d@x"} {
		p, _ := out.Pending(All)
		if len(p) != 1 {
			t.Fatalf("round %d: out holds %v, bad %v", i, p, files(t, bad))
		}
		if _, err := out.Claim(p[0]); err != nil {
			t.Fatal(err)
		}
		f, _ := os.OpenFile(journal, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		fmt.Fprintf(f, "ok %s\n", rcpt)
		f.Close()
		if rec, wb, err := out.Recover(All, bad, 3); err != nil || rec != 1 || wb != 0 {
			t.Fatalf("round %d: recovered %d, bad %d, %v", i, rec, wb, err)
		}
	}
	// No more progress: three interruptions are three attempts.
	for i := 1; i <= 3; i++ {
		p, _ := out.Pending(All)
		if len(p) != 1 {
			t.Fatalf("stalled round %d: out holds %v", i, p)
		}
		e, _ := out.Claim(p[0])
		if e.Meta.Attempts != i-1 {
			t.Fatalf("stalled round %d: attempts %d", i, e.Meta.Attempts)
		}
		out.Recover(All, bad, 3)
	}
	if b, _ := bad.Pending(All); len(b) != 1 {
		t.Fatalf("bad holds %v after three interruptions without progress", b)
	}
}

// TestRecoverRemovesStaleJournals: a progress journal whose entry was
// finished (a crash between removing the claim and the journal) is removed
// at recovery; one whose entry is still queued, claimed or put back under
// another name, is kept.
func TestRecoverRemovesStaleJournals(t *testing.T) {
	root := t.TempDir()
	out, _ := Open(root, Out)
	bad, _ := Open(root, Bad)
	name, _ := out.EnqueueBytes(&Meta{List: "l@x"}, []byte("m"))
	e, _ := out.Claim(name)
	if err := out.Put(e, e.Meta.Clone(), time.Now()); err != nil { // renamed: <now>+digest
		t.Fatal(err)
	}
	live := ".progress-" + e.Meta.ID
	stale := ".progress-1700000000000000000+00aa"
	for _, j := range []string{live, stale} {
		if err := os.WriteFile(filepath.Join(out.Dir, j), []byte("ok a@x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := out.Recover(All, bad, 3); err != nil {
		t.Fatal(err)
	}
	got := files(t, out)
	if len(got) != 2 || got[0] != live || !strings.HasSuffix(got[1], ".msg") {
		t.Fatalf("out holds %v, want %s and the entry", got, live)
	}
}

// TestLedgerSyncFailureIsACommit: when the ledger is renamed into place but
// its directory cannot be fsynced, the hand-over is decided: Commit says so
// and Resume publishes it.
func TestLedgerSyncFailureIsACommit(t *testing.T) {
	root := t.TempDir()
	in, _ := Open(root, In)
	out, _ := Open(root, Out)
	name, _ := in.EnqueueBytes(&Meta{List: "l@x"}, []byte("m"))
	e, _ := in.Claim(name)
	staged := false
	FaultHook = func(p string) error {
		if p == PointStaged {
			staged = true
		}
		if staged && p == PointSyncDir { // the ledger's directory fsync
			return &os.PathError{Op: p, Path: "queue", Err: syscall.EIO}
		}
		return nil
	}
	err := in.Commit(e, []Output{{Queue: out, Meta: e.Meta.Clone(), Body: strings.NewReader("m")}})
	FaultHook = nil
	if !errors.Is(err, ErrCommitted) {
		t.Fatalf("err = %v, want ErrCommitted", err)
	}
	if err := in.Resume(e); err != nil {
		t.Fatal(err)
	}
	if got := files(t, in); len(got) != 0 {
		t.Fatalf("in left %v", got)
	}
	if got := files(t, out); len(got) != 1 || got[0] != e.Meta.ID+".msg" {
		t.Fatalf("out holds %v", got)
	}
}
