package smime

import (
	"bytes"
	"testing"

	"cloister/mailmsg/rawmime"
)

// assembleBefore is assemble as it was before it converted the body as it
// copied it: the whole message joined, then converted in a second copy.
func assembleBefore(top, inner *rawmime.Entity) []byte {
	var b bytes.Buffer
	b.Grow(len(top.Header) + len(inner.Raw) + 4)
	writeFields(&b, top.Header, false)
	writeFields(&b, inner.Header, true)
	b.WriteString("\r\n")
	b.Write(inner.Body)
	if bytes.Contains(top.Header, []byte("\r\n")) || len(top.Header) == 0 {
		return rawmime.Canonical(b.Bytes())
	}
	return bytes.ReplaceAll(b.Bytes(), []byte("\r\n"), []byte("\n"))
}

var assembleTops = []string{
	"From: a@b.test\r\nSubject: s\r\nContent-Type: application/pkcs7-mime\r\n\r\nx",
	"From: a@b.test\nSubject: s\nContent-Type: application/pkcs7-mime\n\nx",
	"\r\nx",
}

var assembleBodies = []string{
	"", "\n", "\r\n", "\r", "text", "a\nb\n", "a\r\nb\r\n", "a\r\nb\nc\r\r\nd\n\n", "\na", "\r\na", "ends in CR\r",
	"\n\n\r\n", "x\r\r\n\r",
}

// TestAssembleAsBefore: the opened message is what the two-copy assemble
// made, for outer headers in CRLF and LF style and bodies with bare LFs,
// CRLFs, lone CRs and line ends at either end.
func TestAssembleAsBefore(t *testing.T) {
	for _, top := range assembleTops {
		for _, body := range assembleBodies {
			check(t, top, body)
		}
	}
}

func check(t *testing.T, topRaw, body string) {
	t.Helper()
	top, err := rawmime.Parse([]byte(topRaw))
	if err != nil {
		t.Fatal(err)
	}
	inner, err := rawmime.Parse([]byte("Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body))
	if err != nil {
		t.Fatal(err)
	}
	got, want := assemble(top, inner), assembleBefore(top, inner)
	if !bytes.Equal(got, want) {
		t.Errorf("top %q, body %q:\ngot  %q\nwant %q", topRaw, body, got, want)
	}
	if cap(got) != len(got) {
		t.Errorf("top %q, body %q: %d bytes in a buffer made for %d (grown, or sized wrong)", topRaw, body, len(got), cap(got))
	}
}

// FuzzAssemble holds assemble to the two-copy one for any body.
func FuzzAssemble(f *testing.F) {
	for _, b := range assembleBodies {
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, body string, lf bool) {
		top := assembleTops[0]
		if lf {
			top = assembleTops[1]
		}
		check(t, top, body)
	})
}

// BenchmarkAssemble25MB: the bytes allocated to put a 25 MB opened post
// (CRLF, as S/MIME carries it) behind an LF outer header, now and before.
func BenchmarkAssemble25MB(b *testing.B) {
	top, err := rawmime.Parse([]byte(assembleTops[1]))
	if err != nil {
		b.Fatal(err)
	}
	inner, err := rawmime.Parse(append([]byte("Content-Type: text/plain\r\n\r\n"), bytes.Repeat([]byte("a line of the post, 32 bytes...\r\n"), 25<<20/33)...))
	if err != nil {
		b.Fatal(err)
	}
	for _, impl := range []struct {
		name string
		f    func(top, inner *rawmime.Entity) []byte
	}{{"now", assemble}, {"before", assembleBefore}} {
		b.Run(impl.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				impl.f(top, inner)
			}
		})
	}
}

// TestAssembleOpened: the opened message written over the buffer the
// decrypted post lies in (assembleOpened, as after decodeWithRoom and
// cms.DecryptInPlace: room in front, the rest of the DER after) is
// byte for byte what assemble made before as two copies, for outer
// headers in CRLF and LF style, inner headers in either, and bodies with
// bare LFs, CRLFs, lone CRs and line ends at either end; it is written in
// place exactly when the body is there and its conversion does not
// lengthen it, and as a copy without a buffer.
func TestAssembleOpened(t *testing.T) {
	for _, topRaw := range assembleTops {
		for _, innerHead := range []string{"Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", "Content-Type: text/plain\n\n"} {
			for _, body := range assembleBodies {
				for _, withBuf := range []bool{true, false} {
					top, err := rawmime.Parse([]byte(topRaw))
					if err != nil {
						t.Fatal(err)
					}
					plain := innerHead + body
					ref, err := rawmime.Parse([]byte(plain))
					if err != nil {
						t.Fatal(err)
					}
					want := assembleBefore(top, ref)
					front := assembleFront(top)
					// The DER after the content (GCM tag, the mac's header)
					// and the decoder's spare capacity.
					buf := make([]byte, front+len(plain)+18, front+len(plain)+18+40)
					copy(buf[front:], plain)
					buf = buf[: len(buf) : len(buf)+40]
					inner, err := rawmime.Parse(buf[front : front+len(plain) : len(buf)])
					if err != nil {
						t.Fatal(err)
					}
					over := buf
					if !withBuf {
						over = nil
					}
					got := assembleOpened(over, top, inner)
					if !bytes.Equal(got, want) {
						t.Fatalf("top %q, inner %q: got\n%q\nwant\n%q", topRaw, plain, got, want)
					}
					lf := !bytes.Contains(top.Header, []byte("\r\n")) && len(top.Header) > 0
					wantOver := withBuf && len(body) > 0 && (lf || bytes.Count([]byte(body), []byte("\n")) == bytes.Count([]byte(body), []byte("\r\n")))
					if inPlace := len(got) > 0 && &got[0] == &buf[0]; inPlace != wantOver {
						t.Errorf("top %q, inner %q: written over the buffer %v, want %v", topRaw, plain, inPlace, wantOver)
					}
				}
			}
		}
	}
}

// TestAssembleFront: the room left in front of an envelope grows with the
// outer header, which may double when its LFs become CRLFs.
func TestAssembleFront(t *testing.T) {
	for _, topRaw := range assembleTops {
		top, err := rawmime.Parse([]byte(topRaw))
		if err != nil {
			t.Fatal(err)
		}
		if got := assembleFront(top); got < 2*len(top.Header)+1024 {
			t.Errorf("header of %d bytes: room %d", len(top.Header), got)
		}
	}
}
