package mta

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"testing"

	"cloister/internal/smtpsink"
)

// benchBody is a 50 KB post as the outgoing runner hands it over: LF line
// endings, armored lines of 64 characters, a few lines that start with a dot.
func benchBody() []byte {
	var b bytes.Buffer
	b.WriteString("From: team@lists.test\nTo: s1@subs.test\nSubject: bench\nMIME-Version: 1.0\n\n")
	line := bytes.Repeat([]byte("AbCdEfGh"), 8)
	for i := 0; b.Len() < 50<<10; i++ {
		if i%97 == 0 {
			b.WriteString(".")
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// BenchmarkSend measures one transaction (one recipient, 50 KB) on an open
// session to a discarding go-smtp server in the same process, with DATA and
// with BDAT, and with DATA pipelined (SendTxn: each message with the next
// transaction's envelope behind it). Each op is one copy of a batch_size 1
// fan-out.
func BenchmarkSend(b *testing.B) {
	sink, err := smtpsink.Start(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	sink.Discard = true
	defer sink.Close()
	body := benchBody()
	b.Run("DATA-pipelined", func(b *testing.B) {
		s, err := (&Client{Addr: sink.Addr, Helo: "lists.test", NoChunking: true}).Open(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		b.SetBytes(int64(len(body)))
		parts := []*Part{NewPart(body)}
		txn := func(i int) *Txn {
			return &Txn{From: "team-bounces@lists.test", To: []string{fmt.Sprintf("s%d@subs.test", i)}, Parts: parts}
		}
		i, next := 0, txn(0)
		for b.Loop() {
			t := next
			next = txn(i + 1)
			res, err := s.SendTxn(t, next)
			if err != nil || len(res.Accepted) != 1 {
				b.Fatalf("%+v %v", res, err)
			}
			i++
		}
		if res, err := s.SendTxn(next, nil); err != nil || len(res.Accepted) != 1 {
			b.Fatalf("%+v %v", res, err)
		}
	})
	for _, chunking := range []bool{false, true} {
		name := "DATA"
		if chunking {
			name = "BDAT"
		}
		b.Run(name, func(b *testing.B) {
			c := &Client{Addr: sink.Addr, Helo: "lists.test", NoChunking: !chunking}
			s, err := c.Open(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(int64(len(body)))
			i := 0
			for b.Loop() {
				res, err := s.Send("team-bounces@lists.test", []string{fmt.Sprintf("s%d@subs.test", i)}, body)
				if err != nil || len(res.Accepted) != 1 {
					b.Fatalf("%+v %v", res, err)
				}
				i++
			}
		})
	}
}

// BenchmarkWireForm measures writing one 50 KB copy's DATA wire form into
// a discarding writer: through net/textproto's dot-writer (what go-smtp's
// client does), encoded in spans, and as parts whose shared prefix and
// suffix were encoded once for the whole fan-out.
func BenchmarkWireForm(b *testing.B) {
	body := benchBody()
	b.Run("textproto", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		bw := bufio.NewWriterSize(io.Discard, 4096)
		for b.Loop() {
			w := textproto.NewWriter(bw).DotWriter()
			w.Write(body)
			w.Close()
		}
	})
	b.Run("spans", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			bufs := net.Buffers(wireData([]*Part{NewPart(body)}))
			bufs.WriteTo(io.Discard)
		}
	})
	b.Run("shared", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		head, tail := NewPart(body[:200]), NewPart(body[400:])
		for b.Loop() {
			bufs := net.Buffers(wireData([]*Part{head, NewPart(body[200:400]), tail}))
			bufs.WriteTo(io.Discard)
		}
	})
}
