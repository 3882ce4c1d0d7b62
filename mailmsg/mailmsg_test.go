package mailmsg

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRoundTripUnchanged(t *testing.T) {
	for _, raw := range []string{
		"From: a@x\nSubject: hi\n  folded\n\nbody\n",
		"From: a@x\r\nSubject: hi\r\n\r\nbody\r\n\r\n",
		"From: a@x\n",
		"X-Weird:no-space\nFrom: \"A, B\" <a@x>\n\n\n",
	} {
		m, err := Parse([]byte(raw))
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		if got := string(m.Bytes()); got != raw && !(m.Body == nil && got == raw+m.NL) {
			t.Errorf("round trip changed %q to %q", raw, got)
		}
	}
}

func TestEdits(t *testing.T) {
	m, err := Parse([]byte("From: A <A@X.org>\r\nSubject: one\r\nSubject: two\r\n\r\nbody"))
	if err != nil {
		t.Fatal(err)
	}
	m.Set("subject", "[l] one")
	m.Add("List-Id", "<l.x.org>")
	m.Prepend("X-Loop", "l@x.org")
	want := "X-Loop: l@x.org\r\nFrom: A <A@X.org>\r\nsubject: [l] one\r\nList-Id: <l.x.org>\r\n\r\nbody"
	if got := string(m.Bytes()); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if a, err := m.FromAddress(); err != nil || a != "a@x.org" {
		t.Fatalf("from = %q, %v", a, err)
	}
}

func TestErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		raw  string
		want error
	}{
		"empty":       {"", ErrNoHeader},
		"long line":   {"Subject: " + strings.Repeat("x", 1000) + "\n\nb", ErrLongLine},
		"no name":     {": x\n\nb", ErrBadFieldName},
		"leading ws":  {" x: y\n\nb", ErrBadFieldName},
		"mbox from":   {"From a@x Mon Jan  1 00:00:00 2024\nSubject: x\n\n", ErrBadFieldName},
		"many fields": {strings.Repeat("X: y\n", MaxFields+5) + "\nb", ErrHeaderSize},
	} {
		if _, err := Parse([]byte(tc.raw)); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

func TestFromAddress(t *testing.T) {
	for raw, ok := range map[string]bool{
		"From: a@x\n\n":                         true,
		"From: =?utf-8?q?J=C3=B6rg?= <j@x>\n\n": true,
		"Subject: x\n\n":                        false,
		"From: a@x\nFrom: b@x\n\n":              false,
		"From: a@x, b@x\n\n":                    false,
	} {
		m, _ := Parse([]byte(raw))
		_, err := m.FromAddress()
		if (err == nil) != ok {
			t.Errorf("%q: err = %v", raw, err)
		}
	}
}

func TestBodyBytesKept(t *testing.T) {
	body := []byte("line\r\nmixed\nendings\r\n\x00\xff")
	m, err := Parse(append([]byte("From: a@x\n\n"), body...))
	if err != nil || !bytes.Equal(m.Body, body) {
		t.Fatalf("body = %q, %v", m.Body, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@x\nSubject: y\n\nbody"))
	f.Add([]byte("A: b\r\n c\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			return
		}
		m.Set("Subject", "x")
		m.FromAddress()
		_ = m.Bytes()
	})
}
