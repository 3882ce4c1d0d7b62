package ownmail

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt/pgp"
	"cloister/queue"
)

// checkBoth checks a copy with Check and with CheckStream (read a byte at a
// time) and fails t unless both pass it or both refuse it; it returns
// Check's answer.
func checkBoth(t *testing.T, g *Gate, m *queue.Meta, data []byte, rcpts []string) error {
	t.Helper()
	err := g.Check(m, data, rcpts, false)
	serr := g.CheckStream(m, iotest.OneByteReader(bytes.NewReader(data)), rcpts, false)
	if (err == nil) != (serr == nil) {
		t.Errorf("Check says %v, CheckStream %v, of %.200q", err, serr, data)
	}
	if serr != nil && !errors.Is(serr, ErrRefused) {
		t.Errorf("CheckStream refuses without ErrRefused: %v", serr)
	}
	return err
}

// pgpCopy returns a good PGP/MIME copy of a post saying text for ann, the
// Gate that checks it and the entry's Meta.
func pgpCopy(t testing.TB, text string) ([]byte, *Gate, *queue.Meta) {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
	list, err := openpgp.NewEntity("L", "", "team@lists.test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	ann, err := openpgp.NewEntity("A", "", "ann@subs.test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := pgp.Seal([]byte("Content-Type: text/plain\r\n\r\n"+text+"\r\n"), list, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ent, err := sealed.For(ann)
	if err != nil {
		t.Fatal(err)
	}
	good := append([]byte("From: team@lists.test\r\nTo: ann@subs.test\r\nMIME-Version: 1.0\r\n"), ent...)
	g := &Gate{Keys: pgpKeys{subs: map[string]*openpgp.Entity{"ann@subs.test": ann}}, Now: time.Now()}
	m := &queue.Meta{ID: "1", List: "team@lists.test", Kind: "post", Encryption: "pgp-mime", Carries: queue.CarriesPlaintext,
		Lineage: &queue.Lineage{ID: "1", Encrypted: true}}
	return good, g, m
}

// TestCheckStreamAsCheck: the MIME structure of a PGP/MIME copy read a
// line at a time is read as the copy held whole: text in the preamble, the
// epilogue, between the parts and in the version part, a third part,
// delimiters with text after them, mixed line ends, a missing close
// delimiter, headers of the wrong kind, twice or cut, are refused by both;
// the good copy, its LF form and its allowed whitespace pass both.
func TestCheckStreamAsCheck(t *testing.T) {
	good, g, m := pgpCopy(t, "the post")
	ct := bytes.Index(good, []byte("Content-Type: multipart/encrypted"))
	bi := bytes.Index(good, []byte(`boundary="`))
	if ct < 0 || bi < 0 {
		t.Fatalf("no Content-Type in %q", good)
	}
	boundary := string(good[bi+len(`boundary="`):])
	boundary = boundary[:strings.IndexByte(boundary, '"')]
	d := "--" + boundary
	replace := func(old, new string, n int) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("no %q in the copy", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), n)
	}
	lastPart := bytes.LastIndex(good, []byte(d+"\r\n"))
	cases := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"the copy", good, true},
		{"LF line ends", bytes.ReplaceAll(good, []byte("\r\n"), []byte("\n")), true},
		{"whitespace after the close delimiter", append(append([]byte{}, good...), " \t\r\n\r\n"...), true},
		{"spaces after the close delimiter on its line", replace(d+"--", d+"--  ", 1), true},
		{"text after the close delimiter", append(append([]byte{}, good...), "the post\r\n"...), false},
		{"text in the preamble", replace(d+"\r\n", "the post\r\n"+d+"\r\n", 1), false},
		{"no preamble", replace("This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n", "", 1), true},
		{"the preamble twice", replace("This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n", "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\nThis is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n", 1), false},
		{"text in the version part", replace("Version: 1", "Version: 1\r\nthe post", 1), false},
		{"a third part", replace(d+"--", d+"\r\nContent-Type: text/plain\r\n\r\nthe post\r\n"+d+"--", 1), false},
		{"a delimiter with text after it", replace(d+"\r\n", d+" the post\r\n", 1), false},
		{"a delimiter with spaces after it", replace(d+"\r\n", d+"  \r\n", 1), false},
		{"a line beginning with the delimiter", replace(d+"--", d+"x\r\n"+d+"--", 1), false},
		{"no close delimiter", bytes.TrimSuffix(bytes.TrimRight(good, "\r\n"), []byte(d+"--")), false},
		{"the close delimiter after the version part", good[: lastPart+0 : lastPart], false},
		{"a LF delimiter among CRLF", replace("\r\n"+d+"--", "\n"+d+"--", 1), false},
		{"a LF first delimiter", replace(d+"\r\nContent-Type: application/pgp-encrypted", d+"\nContent-Type: application/pgp-encrypted", 1), false},
		{"two Content-Type fields", replace("MIME-Version: 1.0\r\n", "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n", 1), false},
		{"a version part of another type", replace("Content-Type: application/pgp-encrypted", "Content-Type: text/plain", 1), false},
		{"an encrypted part of another type", replace("Content-Type: application/octet-stream", "Content-Type: text/plain", 1), false},
		{"a folded Content-Type", replace("Content-Type: multipart/encrypted;", "Content-Type:\r\n multipart/encrypted;", 1), true},
		{"another protocol", replace(`protocol="application/pgp-encrypted"`, `protocol="application/pgp-signature"`, 1), false},
		{"no body", good[:ct+10], false},
		{"a header cut", good[:ct], false},
		{"text in clear", []byte("Content-Type: text/plain\r\n\r\nthe post\r\n"), false},
		{"nothing", nil, false},
	}
	for _, tc := range cases {
		err := checkBoth(t, g, m, tc.data, []string{"ann@subs.test"})
		if tc.ok && err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%s: passes", tc.name)
		}
	}
}

// TestCheckStreamLongLine: a line longer than maxStreamLine is refused by
// CheckStream, which holds a line at a time, where Check passes the spaces
// after "Version: 1"; the distributor writes lines of 76 characters.
func TestCheckStreamLongLine(t *testing.T) {
	good, g, m := pgpCopy(t, "the post")
	long := bytes.Replace(good, []byte("Version: 1"), []byte("Version: 1"+strings.Repeat(" ", maxStreamLine)), 1)
	if err := g.Check(m, long, []string{"ann@subs.test"}, false); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := g.CheckStream(m, bytes.NewReader(long), []string{"ann@subs.test"}, false); err == nil || !strings.Contains(err.Error(), errLongLine.Error()) {
		t.Errorf("CheckStream: %v", err)
	}
}

// TestCheckStreamReaderError: a copy whose stream fails is refused, also
// when what it gave before is a whole good copy.
func TestCheckStreamReaderError(t *testing.T) {
	good, g, m := pgpCopy(t, "the post")
	broken := errors.New("the copy's armor could not be written")
	for _, n := range []int{0, 100, len(good) / 2, len(good)} {
		r := io.MultiReader(bytes.NewReader(good[:n]), iotest.ErrReader(broken))
		if err := g.CheckStream(m, r, []string{"ann@subs.test"}, false); !errors.Is(err, ErrRefused) {
			t.Errorf("stream broken after %d bytes: %v", n, err)
		}
	}
	if err := g.CheckStream(m, bytes.NewReader(good), []string{"ann@subs.test"}, false); err != nil {
		t.Fatalf("the good copy: %v", err)
	}
}

// FuzzCheckStream: CheckStream passes and refuses what Check does.
func FuzzCheckStream(f *testing.F) {
	good, g, m := pgpCopy(f, "the post")
	f.Add(good)
	f.Add(bytes.ReplaceAll(good, []byte("\r\n"), []byte("\n")))
	f.Add([]byte("Content-Type: application/pkcs7-mime;\n smime-type=enveloped-data\nContent-Transfer-Encoding: base64\n\nMA=="))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := g.Check(m, data, []string{"ann@subs.test"}, false)
		serr := g.CheckStream(m, bytes.NewReader(data), []string{"ann@subs.test"}, false)
		if (err == nil) != (serr == nil) && !(err == nil && strings.Contains(serr.Error(), errLongLine.Error())) {
			t.Fatalf("Check says %v, CheckStream %v", err, serr)
		}
	})
}

// EncryptionCert: the keyring of OpenPGP keys holds no certificate.
func (k pgpKeys) EncryptionCert(string, time.Time) (*x509.Certificate, error) {
	return nil, errors.New("no certificate")
}
