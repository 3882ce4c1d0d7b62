package mta

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"cloister/internal/smtpsink"
)

// TestWirePart: a message whose middle part is written by its own function
// (NewWirePart, in small chunks) arrives as the same message made of byte
// parts, over DATA and BDAT, with and without PIPELINING; its wire form is
// the same as a byte part's holding its bytes; and a wire part that writes
// other than the length it gave fails the transaction instead of sending a
// wrong message.
func TestWirePart(t *testing.T) {
	head := "From: a@subs.test\nSubject: wire part\n\n.first line\n"
	var mid bytes.Buffer
	for i := 0; mid.Len() < 200<<10; i++ {
		mid.WriteString("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n")
	}
	tail := ".last line\nwithout end"
	chunked := func(b []byte) func(io.Writer) error {
		return func(w io.Writer) error {
			for len(b) > 0 {
				n := min(len(b), 1000)
				if _, err := w.Write(b[:n]); err != nil {
					return err
				}
				b = b[n:]
			}
			return nil
		}
	}
	parts := func(n int) []*Part {
		return []*Part{NewPart([]byte(head)), NewWirePart(n, chunked(mid.Bytes())), NewPart([]byte(tail))}
	}
	plain := []*Part{NewPart([]byte(head)), NewPart(mid.Bytes()), NewPart([]byte(tail))}
	if got, want := bytes.Join(wireData(parts(mid.Len())), nil), bytes.Join(wireData(plain), nil); !bytes.Equal(got, want) {
		t.Fatal("DATA form of a wire part differs from a byte part's")
	}
	gotB, n := wireBDAT(parts(mid.Len()))
	wantB, wn := wireBDAT(plain)
	if n != wn || !bytes.Equal(bytes.Join(gotB, nil), bytes.Join(wantB, nil)) {
		t.Fatal("BDAT form of a wire part differs from a byte part's")
	}
	if got := Join(parts(mid.Len())); string(got) != head+mid.String()+tail {
		t.Fatal("Join of a wire part differs")
	}

	sink, err := smtpsink.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	want := strings.ReplaceAll(head+mid.String()+tail, "\r\n", "\n")
	sent := 0
	for _, mode := range []struct{ chunking, pipelining bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		c := &Client{Addr: sink.Addr, Helo: "lists.test", NoChunking: !mode.chunking, NoPipelining: !mode.pipelining}
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			res, err := s.SendParts("list-bounces@lists.test", []string{"ok@subs.test"}, parts(mid.Len())...)
			if err != nil || len(res.Accepted) != 1 {
				t.Fatalf("%+v: %+v, %v", mode, res, err)
			}
			sent++
		}
		// A part that says one length and writes another: the session fails.
		res, err := s.SendParts("list-bounces@lists.test", []string{"ok@subs.test"}, parts(mid.Len()+1)...)
		if err == nil || len(res.Accepted) != 0 || res.Temp["ok@subs.test"] == "" {
			t.Fatalf("%+v: a wire part of the wrong length was sent: %+v, %v", mode, res, err)
		}
		s.Close()
	}
	// The connection of a failed wire part is dropped mid-message; go-smtp
	// (unlike Postfix) takes a BDAT chunk cut short by the end of the
	// connection as a whole one, so such a cut message may be in the box:
	// only the whole ones are counted.
	box, _ := sink.Mailbox("ok@subs.test")
	whole := 0
	for _, m := range box {
		_, got, _ := strings.Cut(strings.ReplaceAll(string(m), "\r\n", "\n"), "\n")
		if got == want+"\n" || got == want {
			whole++
		}
	}
	if whole != sent {
		t.Fatalf("%d messages arrived whole, want %d", whole, sent)
	}
}
