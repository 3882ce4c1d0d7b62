package mta

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/safeio"
)

func writeIndex(t *testing.T, path string, addrs ...string) {
	t.Helper()
	err := safeio.WriteFunc(path, 0o644, func(w io.Writer) error {
		_, err := w.Write([]byte(strings.Join(addrs, "\n") + "\n"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSocketmapLookup(t *testing.T) {
	idx := filepath.Join(t.TempDir(), "lists.idx")
	writeIndex(t, idx, "team@lists.example.org", "news@other.example")
	m := &Socketmap{IndexPath: idx, Domains: []string{"lists.example.org", "spare.example"}}
	tests := []struct{ name, key, status, data string }{
		{MapRecipients, "team@lists.example.org", "OK", "OK"},
		{MapRecipients, "TEAM@Lists.Example.Org", "OK", "OK"},
		{MapRecipients, "team-request@lists.example.org", "OK", "OK"},
		{MapRecipients, "team-bounces+x=y@lists.example.org", "OK", "OK"},
		{MapRecipients, "team+tag@lists.example.org", "OK", "OK"},
		{MapRecipients, "news-owner@other.example", "OK", "OK"},
		{MapRecipients, "nobody@lists.example.org", "NOTFOUND", ""},
		{MapRecipients, "@lists.example.org", "NOTFOUND", ""},
		{MapRecipients, "", "NOTFOUND", ""},
		{MapDomains, "lists.example.org", "OK", "lists.example.org"},
		{MapDomains, "spare.example", "OK", "spare.example"},
		{MapDomains, "other.example", "OK", "other.example"}, // a list lives there
		{MapDomains, "elsewhere.example", "NOTFOUND", ""},
		{MapTransport, "lists.example.org", "OK", "cloister:"},
		{MapTransport, "team@lists.example.org", "OK", "cloister:"},
		{MapTransport, "team-request+x@lists.example.org", "OK", "cloister:"},
		{MapTransport, "nobody@lists.example.org", "OK", "cloister:"}, // the recipients map refuses it
		{MapTransport, "someone@elsewhere.example", "NOTFOUND", ""},
		{MapTransport, "elsewhere.example", "NOTFOUND", ""},
		{"aliases", "team@lists.example.org", "PERM", "cloister: no map aliases (want domains, recipients or transport)"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.key, func(t *testing.T) {
			if st, data := m.Lookup(tt.name, tt.key); st != tt.status || data != tt.data {
				t.Errorf("Lookup(%s, %q) = %s %q, want %s %q", tt.name, tt.key, st, data, tt.status, tt.data)
			}
		})
	}
}

func TestSocketmapIndexMissingIsTemporary(t *testing.T) {
	m := &Socketmap{IndexPath: filepath.Join(t.TempDir(), "lists.idx")}
	if st, data := m.Lookup(MapRecipients, "team@lists.example.org"); st != "TEMP" || !strings.Contains(data, "lists.idx") {
		t.Fatalf("Lookup without an index = %s %q, want TEMP naming the file", st, data)
	}
}

func TestReadNetstring(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"10:recipients,", "recipients", ""},
		{"0:,", "", ""},
		{"3:abc", "", "unexpected EOF"},
		{"3:abcd", "", "no comma"},
		{"x:abc,", "", "length has"},
		{":abc,", "", "no length"},
		{"01:a,", "", "leading zero"},
		{"99999999999999999999:a,", "", "longer than"},
		{"20000:a,", "", "longer than"},
		{"", "", "EOF"},
		{"12", "", "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ReadNetstring(bufio.NewReader(strings.NewReader(tt.in)), maxRequest)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ReadNetstring(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("ReadNetstring(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestSocketmapServesNewListsWithoutRestart talks netstrings to a served
// socket as Postfix does, on one kept-open connection, and sees a list
// created (lists.idx replaced) answered at once and a deleted one refused.
func TestSocketmapServesNewListsWithoutRestart(t *testing.T) {
	dir := t.TempDir()
	idx := filepath.Join(dir, "lists.idx")
	writeIndex(t, idx, "team@lists.example.org")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Socketmap{IndexPath: idx, Domains: []string{"lists.example.org"}}).Serve(ctx, ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	ask := func(req string) string {
		t.Helper()
		if _, err := c.Write(Netstring([]byte(req))); err != nil {
			t.Fatal(err)
		}
		b, err := ReadNetstring(r, 100000)
		if err != nil {
			t.Fatalf("%s: %v", req, err)
		}
		return string(b)
	}
	if got := ask("recipients news@lists.example.org"); got != "NOTFOUND " {
		t.Fatalf("before create: %q", got)
	}
	writeIndex(t, idx, "news@lists.example.org", "team@lists.example.org")
	if got := ask("recipients news@lists.example.org"); got != "OK OK" {
		t.Fatalf("after create: %q", got)
	}
	writeIndex(t, idx, "news@lists.example.org")
	if got := ask("recipients team-request@lists.example.org"); got != "NOTFOUND " {
		t.Fatalf("after delete: %q", got)
	}
	if got := ask("transport lists.example.org"); got != "OK cloister:" {
		t.Fatalf("transport: %q", got)
	}
	if got := ask("no-space"); !strings.HasPrefix(got, "PERM ") {
		t.Fatalf("malformed request: %q", got)
	}
	// Garbage closes the connection; the service goes on serving others.
	c.Write([]byte("garbage"))
	c.SetReadDeadline(timeSoon())
	if b, err := r.ReadByte(); err == nil {
		t.Fatalf("the connection stayed open after garbage (read %q)", b)
	}
	c2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.Write(Netstring([]byte("domains lists.example.org")))
	if b, err := ReadNetstring(bufio.NewReader(c2), 1000); err != nil || !bytes.Equal(b, []byte("OK lists.example.org")) {
		t.Fatalf("second connection: %q, %v", b, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	os.Remove(idx)
}

func timeSoon() time.Time { return time.Now().Add(10 * time.Second) }
