package mta

import (
	"bufio"
	"context"
	"strings"
	"testing"

	"cloister/internal/smtpsink"
)

func TestSendDATAAndBDAT(t *testing.T) {
	sink, err := smtpsink.Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.SetRefuse("temp@subs.test", 450)
	sink.SetRefuse("gone@subs.test", 550)
	msg := "From: a@subs.test\nSubject: dots\n\n.leading dot\n..two dots\nlast line without CRLF"
	for _, mode := range []struct{ chunking, pipelining bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		chunking := mode.chunking
		c := &Client{Addr: sink.Addr, Helo: "lists.test", NoChunking: !chunking, NoPipelining: !mode.pipelining}
		s, err := c.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Chunking() != chunking || s.Pipelining() != mode.pipelining {
			t.Fatalf("chunking, pipelining = %v, %v, want %+v (the sink offers both)", s.Chunking(), s.Pipelining(), mode)
		}
		for i := 0; i < 3; i++ { // several transactions on one session
			res, err := s.Send("list-bounces@lists.test", []string{"ok@subs.test", "temp@subs.test", "gone@subs.test"}, []byte(msg))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Accepted) != 1 || res.Accepted[0] != "ok@subs.test" || !strings.HasPrefix(res.Temp["temp@subs.test"], "450") || !strings.HasPrefix(res.Perm["gone@subs.test"], "550") {
				t.Fatalf("%+v: result %+v", mode, res)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	box, _ := sink.Mailbox("ok@subs.test")
	if len(box) != 12 {
		t.Fatalf("%d messages", len(box))
	}
	for _, m := range box {
		_, got, _ := strings.Cut(string(m), "\n")
		if got != msg+"\n" && got != msg {
			t.Fatalf("message changed in transit:\n%q\nwant\n%q", got, msg)
		}
	}
}

func TestReadReply(t *testing.T) {
	for in, want := range map[string]int{"250 ok\r\n": 250, "250-a\r\n250-b\r\n250 c\r\n": 250, "452 full\r\n": 452, "354\r\n": 354} {
		code, _, err := readReply(bufio.NewReader(strings.NewReader(in)))
		if err != nil || code != want {
			t.Errorf("%q: %d %v", in, code, err)
		}
	}
	for _, bad := range []string{"", "2", "abc def\r\n", "099 low\r\n", strings.Repeat("x", 5000)} {
		if _, _, err := readReply(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
