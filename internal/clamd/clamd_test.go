package clamd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/clamdtest"
)

// fake is an in-process clamd: it reads one INSTREAM request and answers as
// the test says.
type fake struct {
	ln   net.Listener
	got  chan []byte
	word func(stream []byte) []byte // the reply, or nil to hang
}

func startFake(t *testing.T, word func([]byte) []byte) *fake {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "c.sock"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fake{ln: ln, got: make(chan []byte, 1), word: word}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *fake) serve(c net.Conn) {
	defer c.Close()
	cmd := make([]byte, len("zINSTREAM\x00"))
	if _, err := io.ReadFull(c, cmd); err != nil || string(cmd) != "zINSTREAM\x00" {
		c.Write([]byte("UNKNOWN COMMAND\x00"))
		return
	}
	var stream []byte
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n == 0 {
			break
		}
		chunk := make([]byte, n)
		if _, err := io.ReadFull(c, chunk); err != nil {
			return
		}
		stream = append(stream, chunk...)
	}
	f.got <- stream
	reply := f.word(stream)
	if reply == nil {
		io.Copy(io.Discard, c) // hang until the client gives up
		return
	}
	c.Write(reply)
}

func (f *fake) client() *Client {
	return &Client{Network: "unix", Address: f.ln.Addr().String(), Timeout: 2 * time.Second, ChunkSize: 7}
}

func reply(s string) func([]byte) []byte { return func([]byte) []byte { return []byte(s) } }

// TestScanFake: the INSTREAM framing (chunks of ChunkSize, zero terminator)
// carries the message whole, and every reply clamd may give, or garbage,
// gets its meaning or a clear error.
func TestScanFake(t *testing.T) {
	for _, tc := range []struct {
		name, reply string
		want        Result
		err         error
		errText     string
	}{
		{"clean", "stream: OK\x00", Result{}, nil, ""},
		{"clean without terminator", "stream: OK", Result{}, nil, ""},
		{"infected", "stream: Win.Test.EICAR_HDB-1 FOUND\x00", Result{Infected: true, Signature: "Win.Test.EICAR_HDB-1"}, nil, ""},
		{"size limit", "INSTREAM size limit exceeded. ERROR\x00", Result{}, ErrTooLarge, "StreamMaxLength"},
		{"clamd error", "stream: Can't allocate memory ERROR\x00", Result{}, ErrUnavailable, "clamd error"},
		{"garbage", "\x01\x02hello\x00", Result{}, ErrUnavailable, "not a verdict"},
		{"empty name", "stream:  FOUND\x00", Result{}, ErrUnavailable, "malformed signature name"},
		{"control in name", "stream: a\x1bb FOUND\x00", Result{}, ErrUnavailable, "malformed signature name"},
		{"closed without reply", "", Result{}, ErrUnavailable, "without a reply"},
		{"endless reply", strings.Repeat("x", 10000), Result{}, ErrUnavailable, "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, reply(tc.reply))
			msg := []byte("Subject: hello\n\nthe body of the message, longer than a chunk\n")
			got, err := f.client().Scan(context.Background(), msg)
			if sent := <-f.got; !bytes.Equal(sent, msg) {
				t.Errorf("clamd received %q, want %q", sent, msg)
			}
			if tc.err == nil {
				if err != nil || got != tc.want {
					t.Fatalf("Scan = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.errText) || got != (Result{}) {
				t.Fatalf("Scan = %+v, %v; want an error matching %v with %q", got, err, tc.err, tc.errText)
			}
		})
	}
}

// TestScanTimeout: a clamd that takes the stream and never answers gives a
// time-out error matching ErrUnavailable, after the client's Timeout.
func TestScanTimeout(t *testing.T) {
	f := startFake(t, func([]byte) []byte { return nil })
	c := f.client()
	c.Timeout = 200 * time.Millisecond
	_, err := c.Scan(context.Background(), []byte("hello\n"))
	var ne net.Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Scan = %v; want a time-out matching ErrUnavailable", err)
	}
}

// TestScanCancelled: stopping the runner (its context) ends a scan at once.
func TestScanCancelled(t *testing.T) {
	f := startFake(t, func([]byte) []byte { return nil })
	c := f.client()
	c.Timeout = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-f.got; cancel(); f.got <- nil }()
	_, err := c.Scan(ctx, []byte("hello\n"))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Scan = %v; want an error matching ErrUnavailable", err)
	}
}

// TestScanUnreachable: no clamd at the socket is ErrUnavailable.
func TestScanUnreachable(t *testing.T) {
	c := &Client{Network: "unix", Address: filepath.Join(t.TempDir(), "none.sock")}
	if _, err := c.Scan(context.Background(), []byte("x")); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "dial") {
		t.Fatalf("Scan = %v", err)
	}
}

// TestScanTooLarge: a message over MaxSize is not sent at all.
func TestScanTooLarge(t *testing.T) {
	f := startFake(t, reply("stream: OK\x00"))
	c := f.client()
	c.MaxSize = 10
	if _, err := c.Scan(context.Background(), []byte("01234567890")); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Scan = %v", err)
	}
	select {
	case <-f.got:
		t.Fatal("clamd was sent a message over the limit")
	default:
	}
}

func TestParseSocket(t *testing.T) {
	for _, tc := range []struct{ in, network, addr string }{
		{"/run/clamav/clamd.ctl", "unix", "/run/clamav/clamd.ctl"},
		{"unix:/run/clamd.sock", "unix", "/run/clamd.sock"},
		{"127.0.0.1:3310", "tcp", "127.0.0.1:3310"},
		{"tcp:[::1]:3310", "tcp", "[::1]:3310"},
		{"clamd.sock", "", ""},
		{"unix:relative", "", ""},
		{"localhost", "", ""},
	} {
		n, a, err := ParseSocket(tc.in)
		if n != tc.network || a != tc.addr || (err != nil) != (tc.network == "") {
			t.Errorf("ParseSocket(%q) = %q, %q, %v", tc.in, n, a, err)
		}
	}
}

// TestScanRealClamd: Debian's clamd, with a database holding only an EICAR
// signature, finds EICAR in a MIME attachment, passes a clean message, and
// refuses a stream over its StreamMaxLength.
func TestScanRealClamd(t *testing.T) {
	d := clamdtest.Start(t, 64)
	c := &Client{Network: "unix", Address: d.Socket, Timeout: time.Minute, MaxSize: 1 << 20}
	clean := []byte("From: a@b.test\nSubject: hi\n\nnothing here\n")
	if r, err := c.Scan(context.Background(), clean); err != nil || r.Infected {
		t.Fatalf("clean: %+v, %v", r, err)
	}
	infected := []byte("From: a@b.test\nSubject: hi\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n--b\n" +
		"Content-Type: application/octet-stream; name=x.com\nContent-Transfer-Encoding: base64\n\n" +
		"WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNU\nLUZJTEUhJEgrSCo=\n--b--\n")
	if r, err := c.Scan(context.Background(), infected); err != nil || !r.Infected || r.Signature != clamdtest.Signature+".UNOFFICIAL" {
		t.Fatalf("infected: %+v, %v", r, err)
	}
	big := append([]byte("Subject: big\n\n"), bytes.Repeat([]byte("a line of text\n"), 10000)...)
	if _, err := c.Scan(context.Background(), big); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over StreamMaxLength: %v", err)
	}
}

// FuzzParseReply: any reply gives a verdict or an error, never a panic, and
// an infected verdict always names a printable signature.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"stream: OK", "stream: Eicar FOUND", "INSTREAM size limit exceeded. ERROR", "stream: x ERROR", "", "stream:  FOUND", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		r, err := parseReply(reply)
		if err != nil && r != (Result{}) {
			t.Fatalf("%q: a result with an error: %+v", reply, r)
		}
		if r.Infected && (r.Signature == "" || len(r.Signature) > 200) {
			t.Fatalf("%q: signature %q", reply, r.Signature)
		}
		if err == nil && !r.Infected && reply != "stream: OK" && strings.TrimRight(reply, "\r\n") != "stream: OK" {
			t.Fatalf("%q read as clean", reply)
		}
	})
}
