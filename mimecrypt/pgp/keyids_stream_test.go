package pgp

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// overwritingLines is a LineReader over a text that hands out each line in
// one buffer, overwritten by the next call (as a bufio.Reader's ReadSlice
// does), so that a reader keeping a line past the next call reads garbage.
type overwritingLines struct {
	rest []byte
	buf  []byte
	err  error // returned instead of io.EOF at the end, if set
}

func (r *overwritingLines) ReadLine() ([]byte, error) {
	for i := range r.buf {
		r.buf[i] = '!'
	}
	if len(r.rest) == 0 {
		if r.err != nil {
			return nil, r.err
		}
		return nil, io.EOF
	}
	l := r.rest
	if i := bytes.IndexByte(l, '\n'); i >= 0 {
		l, r.rest = l[:i], r.rest[i+1:]
	} else {
		r.rest = nil
	}
	r.buf = append(r.buf[:0], bytes.TrimSuffix(l, []byte("\r"))...)
	return r.buf, nil
}

// streamed answers msg through ReadKeyPacketIDs.
func streamed(c *Checker, msg []byte) ([]uint64, error) {
	return c.ReadKeyPacketIDs(&overwritingLines{rest: msg})
}

// sameAnswer fails t unless KeyPacketIDs and ReadKeyPacketIDs answer msg
// alike: both an error, or the same key IDs.
func sameAnswer(t *testing.T, name string, msg []byte) bool {
	t.Helper()
	want, werr := new(Checker).KeyPacketIDs(msg)
	got, err := streamed(new(Checker), msg)
	if (err == nil) != (werr == nil) || err == nil && !slices.Equal(got, want) {
		t.Errorf("%s: streamed %x %v; whole %x %v", name, got, err, want, werr)
		return false
	}
	return werr == nil
}

// TestReadKeyPacketIDsAsKeyPacketIDs: the armor read a line at a time is
// read as the armor held whole: good copies (CRLF and LF), copies around
// a good one with text, blank lines, checksums and markers where they may
// and may not be, and copies whose packets are cut, grown or changed.
func TestReadKeyPacketIDsAsKeyPacketIDs(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	bob := newKey(t, "bob@subs.test", "rsa3072", false)
	armors := sealedArmors(t, list, []*openpgp.Entity{ann}, []*openpgp.Entity{bob}, []*openpgp.Entity{ann, bob})
	good := armors[0]
	const end = "\r\n-----END PGP MESSAGE-----"
	i := bytes.LastIndex(good, []byte("\r\n="))
	if i < 0 {
		t.Fatal("no checksum line")
	}
	body, crc := good[:i], string(good[i:len(good)-len(end)]) // crc: "\r\n=XXXX"
	with := func(parts ...string) []byte { return []byte(strings.Join(parts, "")) }
	cases := map[string][]byte{
		"as For writes it":                 good,
		"LF line ends":                     bytes.ReplaceAll(good, []byte("\r\n"), []byte("\n")),
		"whitespace around":                with(" \r\n\t\r\n", string(good), "\r\n \r\n\v"),
		"no checksum":                      with(string(body), end),
		"blank lines before the checksum":  with(string(body), "\r\n\r\n", crc, end),
		"blank lines after the checksum":   with(string(body), crc, "\r\n \r\n", end),
		"blank lines before the end":       with(string(body), "\r\n\r\n", end),
		"a blank line inside":              bytes.Replace(good, []byte("\r\n"), []byte("\r\n\r\n"), 3),
		"two blank header lines":           bytes.Replace(good, []byte("\r\n\r\n"), []byte("\r\n\r\n\r\n"), 1),
		"an armor header":                  bytes.Replace(good, []byte("\r\n\r\n"), []byte("\r\nComment: the post\r\n\r\n"), 1),
		"text before the begin line":       with("the post\r\n", string(good)),
		"text on the begin line":           bytes.Replace(good, []byte("MESSAGE-----\r\n"), []byte("MESSAGE----- the post\r\n"), 1),
		"begin line with trailing spaces":  bytes.Replace(good, []byte("MESSAGE-----\r\n"), []byte("MESSAGE-----  \t\r\n"), 1),
		"a checksum line inside":           bytes.Replace(good, []byte("\r\n"), []byte("\r\n=QUJD\r\n"), 3),
		"two checksum lines":               with(string(body), crc, crc, end),
		"base64 after the checksum":        with(string(body), crc, "\r\nQUJD", end),
		"base64 on the end line":           with(string(body), "\r\nQUJD", strings.TrimPrefix(end, "\r\n")),
		"a checksum on the end line":       with(string(body), crc, strings.TrimPrefix(end, "\r\n")),
		"text after the end":               with(string(good), "\r\nthe post"),
		"whitespace of any kind after end": with(string(good), "\v\f \r\n\u00a0\r\n"),
		"a second armor":                   with(string(good), "\r\n", string(good)),
		"a begin line inside":              bytes.Replace(good, []byte("\r\n"), []byte("\r\n-----BEGIN PGP SIGNATURE-----\r\n"), 4),
		"the end line twice":               with(string(good), end),
		"no end line":                      body,
		"only the begin line":              []byte("-----BEGIN PGP MESSAGE-----\r\n"),
		"begin and end alone":              []byte("-----BEGIN PGP MESSAGE-----\r\n\r\n-----END PGP MESSAGE-----"),
		"begin and end on one line":        []byte("-----BEGIN PGP MESSAGE----------END PGP MESSAGE-----"),
		"nothing":                          nil,
		"text alone":                       []byte("the post"),
	}
	passed := 0
	for name, msg := range cases {
		if sameAnswer(t, name, msg) {
			passed++
		}
	}
	for i, a := range armors {
		if !sameAnswer(t, "copy", a) {
			t.Errorf("copy %d refused", i)
		}
	}
	if passed < 8 || passed == len(cases) {
		t.Errorf("%d of %d cases accepted: the cases test nothing", passed, len(cases))
	}

	var bins [][]byte
	for _, a := range armors {
		bins = append(bins, dearmorT(t, a))
	}
	r := rand.New(rand.NewPCG(3, 4))
	accepted := 0
	for i := range 2000 {
		msg := mutant(r, bins, i)
		if sameAnswer(t, "mutant", msg) {
			accepted++
		}
	}
	if accepted == 0 || accepted == 2000 {
		t.Fatalf("%d of 2000 mutants accepted: the mutants test nothing", accepted)
	}
}

// TestReadKeyPacketIDsReaderError: an error of the line reader, also
// after the END line, fails the read.
func TestReadKeyPacketIDsReaderError(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	good := sealedArmors(t, list, []*openpgp.Entity{ann})[0]
	broken := errors.New("the copy's stream broke")
	c := new(Checker)
	if _, err := c.ReadKeyPacketIDs(&overwritingLines{rest: good}); err != nil {
		t.Fatalf("good copy: %v", err)
	}
	for _, n := range []int{0, 40, len(good) / 2, len(good)} {
		_, err := c.ReadKeyPacketIDs(&overwritingLines{rest: good[:n], err: broken})
		if !errors.Is(err, broken) {
			t.Errorf("cut at %d: %v, want the reader's error", n, err)
		}
	}
}

// TestReadKeyPacketIDsLarge: encrypted data larger than a Checker reads
// whole is walked as it is read, and a changed byte in it is found.
func TestReadKeyPacketIDsLarge(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	sealed, err := Seal(append([]byte("Content-Type: text/plain\r\n\r\n"), bytes.Repeat([]byte("a line of the post\r\n"), 3<<20/20)...), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := sealed.For(ann)
	if err != nil {
		t.Fatal(err)
	}
	good := armorOf(t, msg)
	c := new(Checker)
	for range 2 {
		if ids, err := streamed(c, good); err != nil || len(ids) != 1 {
			t.Fatalf("large copy: %x %v", ids, err)
		}
	}
	bin := dearmorT(t, good)
	for _, cut := range []int{len(bin) - 1, len(bin) / 2} {
		if ids, err := streamed(c, ours(bin[:cut])); err == nil {
			t.Errorf("cut at %d of %d: accepted, %x", cut, len(bin), ids)
		}
	}
	grown := ours(append(append([]byte{}, bin...), 0xd5, 0x01, 'x'))
	if ids, err := streamed(c, grown); err == nil {
		t.Errorf("a padding packet after the data: accepted, %x", ids)
	}
}

// FuzzReadKeyPacketIDs: the armor read a line at a time is read as the
// armor held whole, by a Checker that has read other messages.
func FuzzReadKeyPacketIDs(f *testing.F) {
	list := newKey(f, "team@lists.example.test", "curve25519", false)
	ann := newKey(f, "ann@subs.test", "curve25519", false)
	seeds := sealedArmors(f, list, []*openpgp.Entity{ann}, []*openpgp.Entity{ann, list})
	for _, a := range seeds {
		f.Add(a)
		f.Add(bytes.ReplaceAll(a, []byte("\r\n"), []byte("\n")))
	}
	f.Add([]byte("-----BEGIN PGP MESSAGE-----\n\nwcBMA/////8=\n-----END PGP MESSAGE-----"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		c := new(Checker)
		for _, s := range seeds {
			streamed(c, s)
		}
		want, werr := new(Checker).KeyPacketIDs(msg)
		got, err := streamed(c, msg)
		if (err == nil) != (werr == nil) || err == nil && !slices.Equal(got, want) {
			t.Fatalf("streamed %x %v; whole %x %v", got, err, want, werr)
		}
	})
}
