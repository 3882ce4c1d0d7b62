package queue

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// files lists the non-hidden files of a queue directory, sorted by extension
// and name, so tests assert the exact files left behind.
func files(t *testing.T, q *Queue) []string {
	t.Helper()
	d, err := os.ReadDir(q.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range d {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func TestEnqueueClaimFinish(t *testing.T) {
	root := t.TempDir()
	in, _ := Open(root, In)
	out, _ := Open(root, Out)
	body := []byte("From: a@example.org\nSubject: hi\n\nbody \r\n bytes\n")
	name, err := in.Enqueue(&Meta{List: "team@lists.test", Sender: "a@example.org"}, bytes.NewReader(body), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := files(t, in); len(got) != 1 || got[0] != name+".msg" {
		t.Fatalf("files after enqueue = %v", got)
	}
	ready, _ := in.Ready(All, time.Now())
	if len(ready) != 1 || ready[0] != name {
		t.Fatalf("ready = %v", ready)
	}
	e, err := in.Claim(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Claim(name); !errors.Is(err, ErrGone) {
		t.Fatalf("second claim: %v, want ErrGone", err)
	}
	got, err := e.Body()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("body = %q, %v", got, err)
	}
	if e.Meta.ID == "" || e.Meta.List != "team@lists.test" || e.Meta.Received.IsZero() {
		t.Fatalf("meta = %+v", e.Meta)
	}
	m := e.Meta.Clone()
	m.AddStage("test", "")
	if err := out.Handover(m, bytes.NewReader(got)); err != nil {
		t.Fatal(err)
	}
	// A second hand-over of the same entry (a crash before Finish) replaces the first.
	if err := out.Handover(m, bytes.NewReader(got)); err != nil {
		t.Fatal(err)
	}
	if err := in.Finish(e); err != nil {
		t.Fatal(err)
	}
	if got := files(t, in); len(got) != 0 {
		t.Fatalf("in left %v", got)
	}
	if got := files(t, out); len(got) != 1 || got[0] != e.Meta.ID+".msg" {
		t.Fatalf("out holds %v", got)
	}
}

func TestEnqueueLimits(t *testing.T) {
	q, _ := Open(t.TempDir(), In)
	if _, err := q.Enqueue(&Meta{}, strings.NewReader(""), 100); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty: %v", err)
	}
	if _, err := q.Enqueue(&Meta{}, bytes.NewReader(make([]byte, 101)), 100); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over limit: %v", err)
	}
	if _, err := q.Enqueue(&Meta{}, bytes.NewReader(make([]byte, 100)), 100); err != nil {
		t.Fatalf("at limit: %v", err)
	}
	if got := files(t, q); len(got) != 1 {
		t.Fatalf("files = %v (no temp files may stay)", got)
	}
}

func TestInjectedRenameFailureLeavesNothing(t *testing.T) {
	q, _ := Open(t.TempDir(), In)
	testHookBeforeRename = func(string) error { return errors.New("disk full") }
	defer func() { testHookBeforeRename = nil }()
	if _, err := q.Enqueue(&Meta{}, strings.NewReader("x"), 0); err == nil {
		t.Fatal("enqueue succeeded despite the failure")
	}
	if got := files(t, q); len(got) != 0 {
		t.Fatalf("files = %v", got)
	}
}

func TestPutDelaysAndRecover(t *testing.T) {
	root := t.TempDir()
	q, _ := Open(root, Out)
	bad, _ := Open(root, Bad)
	name, _ := q.EnqueueBytes(&Meta{List: "l@x"}, []byte("m"))
	e, _ := q.Claim(name)
	later := time.Now().Add(time.Hour)
	if err := q.Put(e, e.Meta.Clone(), later); err != nil {
		t.Fatal(err)
	}
	if r, _ := q.Ready(All, time.Now()); len(r) != 0 {
		t.Fatalf("delayed entry is ready: %v", r)
	}
	if r, _ := q.Ready(All, later.Add(time.Second)); len(r) != 1 {
		t.Fatalf("delayed entry not ready later: %v", r)
	}
	// Simulate crashes: claim and "die" three times; the third recovery sends it to bad.
	for i := 1; i <= 3; i++ {
		p, _ := q.Pending(All)
		if len(p) != 1 {
			t.Fatalf("round %d: pending = %v", i, p)
		}
		if _, err := q.Claim(p[0]); err != nil {
			t.Fatal(err)
		}
		rec, wb, err := q.Recover(All, bad, 3)
		if err != nil {
			t.Fatal(err)
		}
		if i < 3 && (rec != 1 || wb != 0) {
			t.Fatalf("round %d: recovered %d, bad %d", i, rec, wb)
		}
		if i == 3 && (rec != 0 || wb != 1) {
			t.Fatalf("round 3: recovered %d, bad %d", rec, wb)
		}
	}
	if got := files(t, q); len(got) != 0 {
		t.Fatalf("queue left %v", got)
	}
	b, _ := bad.Pending(All)
	if len(b) != 1 {
		t.Fatalf("bad holds %v", b)
	}
	be, _ := bad.Peek(b[0])
	if !strings.Contains(be.Meta.Reason, "interrupted 3 times") || be.Meta.Attempts != 3 {
		t.Fatalf("bad meta = %+v", be.Meta)
	}
}

func TestSlices(t *testing.T) {
	q, _ := Open(t.TempDir(), In)
	for i := 0; i < 200; i++ {
		q.EnqueueBytes(&Meta{List: "l@x", Recipient: string(rune('a' + i%26))}, []byte{byte(i), 1})
	}
	all, _ := q.Pending(All)
	seen := map[string]int{}
	for i := 0; i < 3; i++ {
		part, _ := q.Pending(Slice{i, 3})
		if len(part) == 0 {
			t.Fatalf("slice %d/3 is empty", i)
		}
		for _, n := range part {
			seen[n]++
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("slices cover %d of %d", len(seen), len(all))
	}
	for n, c := range seen {
		if c != 1 {
			t.Fatalf("%s in %d slices", n, c)
		}
	}
	for _, bad := range []string{"3/3", "-1/2", "a/b", "1", "0/0"} {
		if _, err := ParseSlice(bad); err == nil {
			t.Errorf("ParseSlice(%q) accepted", bad)
		}
	}
}

func TestCorruptMetaGoesBad(t *testing.T) {
	root := t.TempDir()
	q, _ := Open(root, In)
	bad, _ := Open(root, Bad)
	os.WriteFile(filepath.Join(q.Dir, "1+ab.bak"), []byte("not json\nbody"), 0o600)
	if _, wb, err := q.Recover(All, bad, 3); err != nil || wb != 1 {
		t.Fatalf("recover: bad %d, %v", wb, err)
	}
	b, _ := bad.Pending(All)
	e, _ := bad.Peek(b[0])
	body, _ := os.ReadFile(filepath.Join(bad.Dir, b[0]+".msg"))
	if !strings.Contains(e.Meta.Reason, "corrupt") || !bytes.HasSuffix(body, []byte("not json\nbody")) {
		t.Fatalf("bad entry = %+v %q", e.Meta, body)
	}
}
