package archive

import (
	"bytes"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/gnupg"
	"cloister/queue"
)

// archiveKey makes a v4 Curve25519 key as keyring.GenerateArchiveKey does.
func archiveKey(t testing.TB) *openpgp.Entity {
	t.Helper()
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, DefaultHash: crypto.SHA256,
		Time: func() time.Time { return t0.AddDate(0, 0, -30) }}
	e, err := openpgp.NewEntity("team archive", "", "team@lists.test", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func id(t time.Time, n int) string {
	return queue.NewID(t, strings.Repeat(string(rune('a'+n)), 8))
}

var t0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

const marker = "PLAINTEXT-MARKER-7d1e"

func post(n int, nl string) []byte {
	return []byte(strings.ReplaceAll("From: bob@subs.test\nTo: team@lists.test\nDate: Sun, 1 Nov 2026 09:00:00 +0000\nSubject: Post "+
		string(rune('A'+n))+"\n\n"+marker+"\nFrom the minutes.\n", "\n", nl))
}

// TestAppendReadEncrypted: an encrypted archive holds no plaintext on disk,
// reads back byte for byte with the key, and refuses without it.
func TestAppendReadEncrypted(t *testing.T) {
	key := archiveKey(t)
	s := &Store{Dir: filepath.Join(t.TempDir(), "team@lists.test")}
	msgs := [][]byte{post(0, "\n"), post(1, "\r\n"), post(2, "\n")}
	for i, m := range msgs {
		if _, err := s.Append(id(t0.Add(time.Duration(i)*time.Hour), i), m, key, t0); err != nil {
			t.Fatal(err)
		}
	}
	filepath.Walk(s.Dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		for _, leak := range []string{marker, "bob@subs.test", "Post A"} {
			if bytes.Contains(b, []byte(leak)) {
				t.Errorf("%s holds %q in clear", p, leak)
			}
		}
		return nil
	})
	es, err := s.Entries()
	if err != nil || len(es) != 3 {
		t.Fatalf("entries %v %v", es, err)
	}
	for i, e := range es {
		if e.N != i+1 || !e.Encrypted || !e.Time.Equal(t0.Add(time.Duration(i)*time.Hour)) {
			t.Errorf("entry %d = %+v", i, e)
		}
		got, err := s.Read(e, key)
		if err != nil || !bytes.Equal(got, msgs[i]) {
			t.Errorf("read %d = %q, %v", i, got, err)
		}
		if _, err := s.Read(e, nil); !errors.Is(err, ErrEncrypted) {
			t.Errorf("read without key: %v", err)
		}
		if _, err := s.Read(e, archiveKey(t)); err == nil {
			t.Errorf("read with another key succeeded")
		}
	}
	if _, err := s.Entry(4); !errors.Is(err, ErrNoEntry) {
		t.Errorf("entry 4: %v", err)
	}
}

// TestAppendPlainReplaces: a plain archive stores the bytes as they are; a
// repeated hand-over under the same id replaces the first copy.
func TestAppendPlainReplaces(t *testing.T) {
	s := &Store{Dir: filepath.Join(t.TempDir(), "team@lists.test")}
	i0 := id(t0, 0)
	if _, err := s.Append(i0, []byte("first"), nil, t0); err != nil {
		t.Fatal(err)
	}
	p, err := s.Append(i0, post(0, "\n"), nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, post(0, "\n")) {
		t.Fatalf("stored %q", b)
	}
	es, _ := s.Entries()
	if len(es) != 1 || es[0].Encrypted {
		t.Fatalf("entries %+v", es)
	}
	for _, bad := range []string{"", "../x", ".hidden", "a/b"} {
		if _, err := s.Append(bad, []byte("x"), nil, t0); err == nil {
			t.Errorf("id %q accepted", bad)
		}
	}
}

// TestExpire: messages received before the cut-off go; ExpireEvery runs at
// most once per interval.
func TestExpire(t *testing.T) {
	s := &Store{Dir: filepath.Join(t.TempDir(), "team@lists.test")}
	for i := range 5 {
		s.Append(id(t0.AddDate(0, 0, i), i), post(i, "\n"), nil, t0)
	}
	now := t0.AddDate(0, 0, 5)
	n, err := s.ExpireEvery(3, now, time.Hour) // keeps days 2, 3, 4
	if err != nil || n != 2 {
		t.Fatalf("expired %d, %v", n, err)
	}
	s.Append(id(t0.AddDate(0, 0, -10), 9), post(9, "\n"), nil, t0) // an old one arrives late
	if n, _ := s.ExpireEvery(3, now.Add(time.Minute), time.Hour); n != 0 {
		t.Fatalf("ran again within the interval: %d", n)
	}
	if n, _ := s.ExpireEvery(3, now.Add(2*time.Hour), time.Hour); n != 2 { // the late one and day 2
		t.Fatalf("second run expired %d", n)
	}
	if n, _ := s.ExpireEvery(0, now.AddDate(1, 0, 0), 0); n != 0 {
		t.Fatalf("keep 0 expired %d", n)
	}
	es, _ := s.Entries()
	if len(es) != 2 {
		t.Fatalf("left %d", len(es))
	}
}

// TestExportMbox: mboxrd quoting of From lines, decrypted messages.
func TestExportMbox(t *testing.T) {
	key := archiveKey(t)
	s := &Store{Dir: filepath.Join(t.TempDir(), "team@lists.test")}
	s.Append(id(t0, 0), post(0, "\r\n"), key, t0)
	s.Append(id(t0.Add(time.Hour), 1), []byte("From: ann@subs.test\nSubject: x\n\nFrom here\n>From there\nno newline"), nil, t0)
	var b bytes.Buffer
	if _, err := s.ExportMbox(&b, nil); !errors.Is(err, ErrEncrypted) {
		t.Fatalf("export without key: %v", err)
	}
	b.Reset()
	n, err := s.ExportMbox(&b, key)
	if err != nil || n != 2 {
		t.Fatal(n, err)
	}
	want := "From bob@subs.test Sun Nov  1 09:00:00 2026\n" + strings.Replace(string(post(0, "\n")), "\nFrom the", "\n>From the", 1) + "\n" +
		"From ann@subs.test Sun Nov  1 10:00:00 2026\nFrom: ann@subs.test\nSubject: x\n\n>From here\n>>From there\nno newline\n\n"
	if b.String() != want {
		t.Fatalf("mbox:\n%s\nwant:\n%s", b.String(), want)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if n, err := s.ExportMaildir(dir, key); err != nil || n != 2 {
		t.Fatal(n, err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "new", id(t0, 0)+plainSuffix))
	if !bytes.Equal(got, post(0, "\r\n")) {
		t.Fatalf("maildir copy %q", got)
	}
}

// TestEncryptedReadByGnuPG: an operator with the exported archive key reads
// an archive file with gpg.
func TestEncryptedReadByGnuPG(t *testing.T) {
	key := archiveKey(t)
	var sec bytes.Buffer
	if err := key.SerializePrivate(&sec, nil); err != nil {
		t.Fatal(err)
	}
	h := gnupg.New(t)
	h.Import(sec.Bytes())
	stored, err := Encrypt(post(0, "\n"), key, t0)
	if err != nil {
		t.Fatal(err)
	}
	armored := stored[bytes.Index(stored, []byte("-----BEGIN PGP MESSAGE-----")):]
	pt, status, err := h.Decrypt(armored)
	if err != nil {
		t.Fatalf("gpg: %v\n%s", err, status)
	}
	if want := innerHeader + string(post(0, "\n")); string(pt) != want {
		t.Fatalf("gpg read %q", pt)
	}
}

// TestDecryptRefuses: damaged or unencrypted data is an error, not a panic.
func TestDecryptRefuses(t *testing.T) {
	key := archiveKey(t)
	stored, err := Encrypt(post(0, "\n"), key, t0)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(stored, []byte("-----BEGIN PGP MESSAGE-----")) + 200
	tampered := bytes.Clone(stored)
	tampered[i] ^= 0x01
	for name, b := range map[string][]byte{"tampered": tampered, "none": []byte("Subject: x\n\nhello"), "truncated": stored[:len(stored)/2]} {
		if _, err := Decrypt(b, key); err == nil {
			t.Errorf("%s: decrypted", name)
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	key := archiveKey(f)
	stored, err := Encrypt(post(0, "\n"), key, t0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(stored)
	f.Add([]byte("-----BEGIN PGP MESSAGE-----\n\nwcBMA\n-----END PGP MESSAGE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		Decrypt(b, key)
		IsEncrypted(b)
	})
}
