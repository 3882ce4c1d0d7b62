package pgp

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt"
)

// wrapEncrypted puts an armored OpenPGP message into a PGP/MIME post.
func wrapEncrypted(armored []byte) []byte {
	return []byte("From: ann@subs.test\r\nTo: " + listAddr + "\r\nSubject: x\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n" +
		"--b\r\nContent-Type: application/octet-stream\r\n\r\n" + string(armored) + "\r\n--b--\r\n")
}

// armorBytes armors binary OpenPGP data (with checksum).
func armorBytes(t testing.TB, bin []byte) []byte {
	var b bytes.Buffer
	w, err := armor.Encode(&b, "PGP MESSAGE", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bin)
	w.Close()
	return b.Bytes()
}

// newPacket serialises a new-format packet with a 5-octet length.
func newPacket(tag byte, body []byte) []byte {
	out := []byte{0xc0 | tag, 0xff, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[2:], uint32(len(body)))
	return append(out, body...)
}

// encryptPackets encrypts raw packets (SEIPDv1, AES-256) to key's encryption subkey.
func encryptPackets(t testing.TB, to *openpgp.Entity, packets []byte) []byte {
	t.Helper()
	k, _, err := EncryptionKey(to, to.PrimaryKey.CreationTime.Add(1), nil)
	if err != nil {
		t.Fatal(err)
	}
	sk := make([]byte, 32)
	rand.Read(sk)
	var out bytes.Buffer
	if err := packet.SerializeEncryptedKey(&out, k.PublicKey, packet.CipherAES256, sk, nil); err != nil {
		t.Fatal(err)
	}
	w, err := packet.SerializeSymmetricallyEncrypted(&out, packet.CipherAES256, false, packet.CipherSuite{}, sk, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(packets)
	w.Close()
	return out.Bytes()
}

// compressionBomb returns OpenPGP packets of a few KB: a compressed packet
// holding a compressed packet holding a literal packet of just over 1 GiB
// of zeros. The inner deflate stream repeats one flushed block that encodes
// 1 MiB of zeros; the check below proves that repeating it is valid.
func compressionBomb(t testing.TB) (packets []byte, inflated int64) {
	t.Helper()
	const chunk, chunks = 1 << 20, 1100
	inflated = int64(chunk) * (chunks + 1)
	lit := []byte{0xcb, 0xff, 0, 0, 0, 0, 'b', 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(lit[2:6], uint32(inflated+6))
	zeros := make([]byte, chunk)
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.BestCompression)
	take := func() []byte { b := bytes.Clone(buf.Bytes()); buf.Reset(); return b }
	fw.Write(lit)
	fw.Write(zeros)
	fw.Flush()
	first := take()
	fw.Write(zeros)
	fw.Flush()
	block := take()
	fw.Write(zeros)
	fw.Flush()
	if again := take(); !bytes.Equal(again, block) {
		t.Fatalf("flushed zero blocks differ; the bomb cannot be built by repetition")
	}
	fw.Close()
	last := take()
	// Decoding first+block+block+last gives the header and 3 MiB of zeros.
	probe := append(append(append(bytes.Clone(first), block...), block...), last...)
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(probe)))
	if err != nil || len(got) != len(lit)+3*chunk || !bytes.Equal(got[:len(lit)], lit) {
		t.Fatalf("bomb blocks do not concatenate: %v, %d bytes", err, len(got))
	}
	inner := append([]byte{1}, first...) // 1 = ZIP (raw deflate)
	for i := 0; i < chunks; i++ {
		inner = append(inner, block...)
	}
	inner = newPacket(8, append(inner, last...))
	var outer bytes.Buffer
	fw, _ = flate.NewWriter(&outer, flate.BestCompression)
	fw.Write(inner)
	fw.Close()
	return newPacket(8, append([]byte{1}, outer.Bytes()...)), inflated
}

func TestBadInput(t *testing.T) {
	list := newKey(t, listAddr, "curve25519", false)
	other := newKey(t, "other@subs.test", "curve25519", false)
	opts := OpenOptions{ListKeys: openpgp.EntityList{list}}
	sealed, err := Seal([]byte(testPost), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	good, err := sealed.For(list)
	if err != nil {
		t.Fatal(err)
	}
	goodBin, err := dearmor(armoredBlock(t, good), "PGP MESSAGE")
	if err != nil {
		t.Fatal(err)
	}
	toOther, _ := sealed.For(other)

	manyKeys := func() []byte {
		k, _, _ := EncryptionKey(other, other.PrimaryKey.CreationTime.Add(1), nil)
		var one bytes.Buffer
		packet.SerializeEncryptedKey(&one, k.PublicKey, packet.CipherAES256, make([]byte, 32), nil)
		return append(bytes.Repeat(one.Bytes(), 10000), goodBin[len(goodBin)-200:]...)
	}()
	hiddenKeys := func() []byte {
		k, _, _ := EncryptionKey(other, other.PrimaryKey.CreationTime.Add(1), nil)
		var one bytes.Buffer
		packet.SerializeEncryptedKeyWithHiddenOption(&one, k.PublicKey, packet.CipherAES256, make([]byte, 32), true, nil)
		return append(bytes.Repeat(one.Bytes(), 100), goodBin[len(goodBin)-200:]...)
	}()
	noMDC := func() []byte {
		k, _, _ := EncryptionKey(list, list.PrimaryKey.CreationTime.Add(1), nil)
		var b bytes.Buffer
		packet.SerializeEncryptedKey(&b, k.PublicKey, packet.CipherAES256, make([]byte, 32), nil)
		junk := make([]byte, 200)
		rand.Read(junk)
		return append(b.Bytes(), newPacket(9, junk)...)
	}()
	brokenArmor := bytes.Replace(armoredBlock(t, good), []byte("\r\n\r\n"), []byte("\r\n\r\n*%$!\r\n"), 1)
	// A broken line after the packets is read once the plaintext is out:
	// it still refuses the message.
	brokenTail := func() []byte {
		a := armoredBlock(t, good)
		i := bytes.LastIndex(a, []byte("\n="))
		if i < 0 {
			t.Fatal("no checksum line in the armor")
		}
		return append(append(bytes.Clone(a[:i+1]), "*%$!\r\n"...), a[i+1:]...)
	}()

	tests := []struct {
		name string
		msg  []byte
		want error
	}{
		{"broken armor", wrapEncrypted(brokenArmor), mimecrypt.ErrMalformed},
		{"broken armor after the packets", wrapEncrypted(brokenTail), mimecrypt.ErrMalformed},
		{"truncated packets", wrapEncrypted(armorBytes(t, goodBin[:len(goodBin)/2])), mimecrypt.ErrMalformed},
		{"truncated key packet", wrapEncrypted(armorBytes(t, goodBin[:40])), mimecrypt.ErrMalformed},
		{"encrypted to another key", listMessage(toOther), mimecrypt.ErrNoKey},
		{"100 hidden key packets", wrapEncrypted(armorBytes(t, hiddenKeys)), mimecrypt.ErrTooLarge},
		{"SED without MDC", wrapEncrypted(armorBytes(t, noMDC)), mimecrypt.ErrNoIntegrity},
		{"10,000 key packets", wrapEncrypted(armorBytes(t, manyKeys)), mimecrypt.ErrTooLarge},
		{"wrong protocol parameter", listMessage(bytes.Replace(good, []byte(`protocol="application/pgp-encrypted"`), []byte(`protocol="application/pgp-signature"`), 1)), mimecrypt.ErrMalformed},
		{"not OpenPGP data", wrapEncrypted([]byte("hello")), mimecrypt.ErrMalformed},
		{"nested 100 deep", deepMessage(100), mimecrypt.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Open(tt.msg, opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if res == nil || res.Reason == "" {
				t.Errorf("no reason for the sender: %+v", res)
			}
		})
	}
}

// deepMessage nests depth multipart/mixed entities.
func deepMessage(depth int) []byte {
	var b strings.Builder
	b.WriteString("From: ann@subs.test\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 0; i < depth; i++ {
		b.WriteString("--b" + itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=b" + itoa(i+1) + "\r\n\r\n")
	}
	b.WriteString("--b" + itoa(depth) + "\r\n\r\nleaf\r\n--b" + itoa(depth) + "--\r\n")
	for i := depth - 1; i >= 0; i-- {
		b.WriteString("--b" + itoa(i) + "--\r\n")
	}
	return []byte(b.String())
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestCompressionBomb opens a few-KB message that inflates past 1 GiB and
// checks that it is refused with ErrTooLarge, allocating a bounded amount.
func TestCompressionBomb(t *testing.T) {
	list := newKey(t, listAddr, "curve25519", false)
	bomb, inflated := compressionBomb(t)
	if inflated < 1<<30 {
		t.Fatalf("bomb inflates to only %d bytes", inflated)
	}
	msg := wrapEncrypted(armorBytes(t, encryptPackets(t, list, bomb)))
	if len(msg) > 64<<10 {
		t.Fatalf("bomb message is %d bytes, want a few KB", len(msg))
	}
	t.Logf("bomb: %d bytes of message inflating to %d bytes", len(msg), inflated)
	for _, limit := range []int64{0, 1 << 20} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Open(msg, OpenOptions{ListKeys: openpgp.EntityList{list}, MaxDecompressed: limit})
		runtime.ReadMemStats(&after)
		if !errors.Is(err, mimecrypt.ErrTooLarge) {
			t.Fatalf("limit %d: err = %v, want ErrTooLarge", limit, err)
		}
		bound := limit
		if bound == 0 {
			bound = DefaultMaxDecompressed
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(4*bound+16<<20) {
			t.Errorf("limit %d: allocated %d bytes opening the bomb", bound, alloc)
		}
	}
}
