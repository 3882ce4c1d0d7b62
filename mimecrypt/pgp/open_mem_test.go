package pgp

import (
	"bytes"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// BenchmarkOpen25MB: opening a 25 MB post, PGP/MIME encrypted to the list
// key and signed inside by its sender, as the incoming runner does (B/op:
// the copies of the post Open makes on the way).
func BenchmarkOpen25MB(b *testing.B) {
	list := newKey(b, "team@lists.example.test", "curve25519", false)
	ann := newKey(b, "ann@subs.test", "curve25519", false)
	inner := append([]byte("Content-Type: text/plain\r\n\r\n"), bytes.Repeat([]byte("a line of the post, 32 bytes...\r\n"), 25<<20/33)...)
	var armored bytes.Buffer
	aw, err := armor.Encode(&armored, "PGP MESSAGE", nil)
	if err != nil {
		b.Fatal(err)
	}
	w, err := openpgp.Encrypt(aw, []*openpgp.Entity{list}, nil, []*openpgp.Entity{ann}, &openpgp.FileHints{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	w.Write(inner)
	w.Close()
	aw.Close()
	var msg bytes.Buffer
	msg.WriteString("From: ann@subs.test\r\nTo: team@lists.example.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n")
	msg.Write(armored.Bytes())
	msg.WriteString("\r\n--b--\r\n")
	raw := msg.Bytes()
	opts := OpenOptions{ListKeys: openpgp.EntityList{list}, Senders: boundByUserIDs(openpgp.EntityList{ann})}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Open(raw, opts)
		if err != nil || res.Verdict != "good" {
			b.Fatalf("%v %v", err, res)
		}
	}
}
