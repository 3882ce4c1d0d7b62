package mta

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
	"testing"
)

// dotWriter returns what net/textproto's dot-writer writes for data (the
// DATA wire form go-smtp's client sends, terminating line included).
func dotWriter(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	w := textproto.NewWriter(bw).DotWriter()
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// crlfByByte is the BDAT wire form computed one byte at a time.
func crlfByByte(data []byte) []byte {
	var out []byte
	for i, c := range data {
		if c == '\n' && (i == 0 || data[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// wireCases are the bodies the encoders are checked on.
var wireCases = map[string]string{
	"empty":                 "",
	"one dot":               ".",
	"dot line":              ".\n",
	"leading dots":          ".a\n..b\n...\nc.\n.",
	"dot after CRLF":        "a\r\n.b\r\n.\r\n",
	"bare LF":               "a\nb\n\n\nc\n",
	"bare CR":               "a\rb\r.c\r\r\n.d",
	"CR CR LF":              "x\r\r\n.y\r\r\r\n",
	"CR at end":             "abc\r",
	"LF at end":             "abc\n",
	"CRLF at end":           "abc\r\n",
	"no final newline":      "From: a\n\nlast line without newline",
	"dot at end of text":    "a\n.",
	"only newlines":         "\n\n\r\n\r\r",
	"terminator in body":    "a\r\n.\r\nb\n.\nc",
	"LF then dot then CR":   "\n.\r",
	"headers and body":      "From: a@subs.test\nSubject: dots\n\n.leading dot\n..two dots\nlast line",
	"huge":                  strings.Repeat("abcdefgh\n.ij\r\nkl\rmn\n", 20000),
	"huge line without EOL": strings.Repeat("x", 1<<20),
}

func TestDotStuffingMatchesTextproto(t *testing.T) {
	for name, in := range wireCases {
		t.Run(name, func(t *testing.T) {
			want := dotWriter(t, []byte(in))
			if got := bytes.Join(wireData([]*Part{NewPart([]byte(in))}), nil); !bytes.Equal(got, want) {
				t.Fatalf("DATA form of %.80q:\n got %.200q\nwant %.200q", in, got, want)
			}
			if got, _ := wireBDAT([]*Part{NewPart([]byte(in))}); !bytes.Equal(bytes.Join(got, nil), crlfByByte([]byte(in))) {
				t.Fatalf("BDAT form of %.80q: %.200q", in, bytes.Join(got, nil))
			}
		})
	}
}

// TestPartsMatchWhole splits each body at every point (into two parts, and
// into three around a small middle part, as a copy made of a shared prefix,
// its own part and a shared suffix) and checks that the parts' wire form is
// the whole's, with the shared parts reused between copies.
func TestPartsMatchWhole(t *testing.T) {
	for name, in := range wireCases {
		if len(in) > 200 {
			continue
		}
		t.Run(name, func(t *testing.T) {
			b := []byte(in)
			want := dotWriter(t, b)
			wantBDAT := crlfByByte(b)
			for i := 0; i <= len(b); i++ {
				for j := i; j <= len(b) && j <= i+3; j++ {
					parts := []*Part{NewPart(b[:i]), NewPart(b[i:j]), NewPart(b[j:])}
					for round := 0; round < 2; round++ { // the second round reuses the encodings
						if got := bytes.Join(wireData(parts), nil); !bytes.Equal(got, want) {
							t.Fatalf("split %d,%d round %d: DATA %q, want %q", i, j, round, got, want)
						}
						spans, n := wireBDAT(parts)
						if got := bytes.Join(spans, nil); !bytes.Equal(got, wantBDAT) || n != len(wantBDAT) {
							t.Fatalf("split %d,%d round %d: BDAT %q (%d), want %q", i, j, round, got, n, wantBDAT)
						}
					}
				}
			}
		})
	}
}

// TestSharedPartAfterDifferentParts checks that a shared part encodes by
// where the part before it ends: after a line end its leading dot is
// doubled, mid-line it is not, and after a CR its LF is not doubled.
func TestSharedPartAfterDifferentParts(t *testing.T) {
	shared := NewPart([]byte(".sig\n"))
	for _, before := range []string{"a\n", "a", "a\r", ""} {
		parts := []*Part{NewPart([]byte(before)), shared}
		if got, want := bytes.Join(wireData(parts), nil), dotWriter(t, []byte(before+".sig\n")); !bytes.Equal(got, want) {
			t.Errorf("after %q: %q, want %q", before, got, want)
		}
	}
	shared = NewPart([]byte("\nx"))
	for _, before := range []string{"a\r", "a"} {
		spans, _ := wireBDAT([]*Part{NewPart([]byte(before)), shared})
		if got, want := bytes.Join(spans, nil), crlfByByte([]byte(before+"\nx")); !bytes.Equal(got, want) {
			t.Errorf("BDAT after %q: %q, want %q", before, got, want)
		}
	}
}

func FuzzDotStuffing(f *testing.F) {
	for _, in := range wireCases {
		if len(in) < 1000 {
			f.Add([]byte(in), uint16(len(in)/2))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16) {
		cut := int(split) % (len(in) + 1)
		want := dotWriter(t, in)
		if got := bytes.Join(wireData([]*Part{NewPart(in)}), nil); !bytes.Equal(got, want) {
			t.Fatalf("DATA form of %q: %q, want %q", in, got, want)
		}
		if got := bytes.Join(wireData([]*Part{NewPart(in[:cut]), NewPart(in[cut:])}), nil); !bytes.Equal(got, want) {
			t.Fatalf("DATA form of %q split at %d: %q, want %q", in, cut, got, want)
		}
		spans, n := wireBDAT([]*Part{NewPart(in[:cut]), NewPart(in[cut:])})
		if got := bytes.Join(spans, nil); !bytes.Equal(got, crlfByByte(in)) || n != len(got) {
			t.Fatalf("BDAT form of %q split at %d: %q", in, cut, got)
		}
	})
}

// TestCleanBodyNotCopied checks that a body that needs no change on the wire
// (CRLF line ends, no leading dot), as the outgoing runner's copies are, is
// written from its own bytes, and one that needs a change is not.
func TestCleanBodyNotCopied(t *testing.T) {
	clean := []byte(strings.Repeat("-----BEGIN PGP MESSAGE-----\r\nwcFMA1b2c3d4\r\n", 100))
	for _, c := range []struct {
		body []byte
		same bool
	}{
		{clean, true},
		{append(bytes.Clone(clean), "no final newline"...), true},
		{append(bytes.Clone(clean), ".dot\r\n"...), false},
		{append(bytes.Clone(clean), "bare LF\n"...), false},
		{append(bytes.Clone(clean), "bare\rCR\r\n"...), false},
	} {
		spans := wireData([]*Part{NewPart(c.body)})
		if got := &spans[0][0] == &c.body[0]; got != c.same {
			t.Errorf("%.40q...: DATA form shares the body's bytes = %v, want %v", c.body[len(c.body)-20:], got, c.same)
		}
		if !bytes.Equal(bytes.Join(spans, nil), dotWriter(t, c.body)) {
			t.Errorf("%.40q...: DATA form differs from the dot-writer's", c.body[len(c.body)-20:])
		}
		bspans, _ := wireBDAT([]*Part{NewPart(c.body)})
		lfOnly := bytes.Contains(c.body, []byte("LF\n"))
		if got := &bspans[0][0] == &c.body[0]; got == lfOnly {
			t.Errorf("%.40q...: BDAT form shares the body's bytes = %v", c.body[len(c.body)-20:], got)
		}
	}
}
