package commands

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/smallstep/pkcs7"

	"cloister/internal/boltfile"
	"cloister/mimecrypt/rawmime"
	"cloister/queue"
)

// MaxSignatures bounds the signature digests kept per list; the oldest go
// first. Digests older than the list's signed_command_max_age_days are
// dropped too: commands signed before that are refused anyway.
const MaxSignatures = 10000

// Signature identifies the signature that authorized a command mail.
type Signature struct {
	// Digest is the SHA-256 of the signature bytes, or (when the signature
	// is no longer in the opened message, as inside an encryption) of the
	// signer's fingerprint and the signed content.
	Digest string
	// Created is the signature's creation time when it could be read.
	Created time.Time
}

// SignatureOf finds the signature of an opened command mail: the second
// part of a top-level multipart/signed, or a clear-signed block in the text.
func SignatureOf(msg []byte, signerFpr string) Signature {
	ent, err := rawmime.Parse(msg)
	if err == nil {
		if mt, params, _ := ent.MediaType(); mt == "multipart/signed" {
			parts, _ := rawmime.SplitMultipart(ent.Body, params["boundary"], maxParts)
			if len(parts) == 2 {
				if sp, err := rawmime.Parse(parts[1]); err == nil {
					if sig, t, ok := signatureBytes(sp); ok {
						return Signature{Digest: digest("sig", sig), Created: t}
					}
				}
			}
		}
		if text, err := TextBody(msg); err == nil {
			if sig, t, ok := clearSignature(text); ok {
				return Signature{Digest: digest("sig", sig), Created: t}
			}
		}
		return Signature{Digest: digest("content", []byte(signerFpr), ent.Body)}
	}
	return Signature{Digest: digest("content", []byte(signerFpr), msg)}
}

func digest(kind string, parts ...[]byte) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// signatureBytes decodes a signature part (OpenPGP armor, or S/MIME base64)
// and reads an OpenPGP signature's creation time.
func signatureBytes(sp *rawmime.Entity) ([]byte, time.Time, bool) {
	mt, _, _ := sp.MediaType()
	switch mt {
	case "application/pgp-signature":
		blk, err := armor.Decode(bytes.NewReader(sp.Body))
		if err != nil {
			return nil, time.Time{}, false
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(limited(blk.Body)); err != nil {
			return nil, time.Time{}, false
		}
		return b.Bytes(), pgpCreated(b.Bytes()), true
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, sp.Body)
		der, err := base64.StdEncoding.DecodeString(string(clean))
		if err != nil {
			return nil, time.Time{}, false
		}
		return der, smimeSigningTime(der), true
	}
	return nil, time.Time{}, false
}

// smimeSigningTime reads the signingTime attribute of an S/MIME signature
// (zero when it has none), so that the age window applies to S/MIME-signed
// commands too.
func smimeSigningTime(der []byte) time.Time {
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return time.Time{}
	}
	var t time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &t); err != nil {
		return time.Time{}
	}
	return t
}

// clearSignature returns the signature of a clear-signed block.
func clearSignature(text []byte) ([]byte, time.Time, bool) {
	i := bytes.Index(text, []byte("-----BEGIN PGP SIGNATURE-----"))
	if i < 0 || !bytes.Contains(text[:i], []byte("-----BEGIN PGP SIGNED MESSAGE-----")) {
		return nil, time.Time{}, false
	}
	blk, err := armor.Decode(bytes.NewReader(text[i:]))
	if err != nil {
		return nil, time.Time{}, false
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(limited(blk.Body)); err != nil {
		return nil, time.Time{}, false
	}
	return b.Bytes(), pgpCreated(b.Bytes()), true
}

type limitReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("signature larger than 64 KiB")
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}

func limited(r interface{ Read([]byte) (int, error) }) *limitReader { return &limitReader{r, 64 << 10} }

// pgpCreated reads the creation time of the first OpenPGP signature packet.
func pgpCreated(sig []byte) time.Time {
	p, err := packet.Read(bytes.NewReader(sig))
	if err != nil {
		return time.Time{}
	}
	if s, ok := p.(*packet.Signature); ok {
		return s.CreationTime
	}
	return time.Time{}
}

// ReplayStore keeps, per list, the digests of the signatures that
// authorized command mails (security invariant 4), in a small file per list
// under Dir, changed under an exclusive lock so that several command runner
// processes agree.
type ReplayStore struct {
	Dir string
	// Timeout bounds the wait for the lock (boltfile.DefaultTimeout if zero).
	Timeout time.Duration
	// Max bounds the records kept per list (MaxSignatures if zero).
	Max int
}

// Check records the digest for the entry and reports whether another entry
// recorded it before. The same entry may be checked again (a retry after a
// crash) without being taken for a replay. Records older than keep are
// dropped, and at most Max are kept (the oldest go first).
func (r *ReplayStore) Check(list, digest, entryID string, now time.Time, keep time.Duration) (seen bool, err error) {
	if err := os.MkdirAll(r.Dir, 0o750); err != nil {
		return false, fmt.Errorf("replay store: %w", err)
	}
	path := filepath.Join(r.Dir, strings.ToLower(list)+".sigs")
	timeout := r.Timeout
	if timeout == 0 {
		timeout = boltfile.DefaultTimeout
	}
	lock, err := boltfile.Lock(path+".lock", true, timeout)
	if err != nil {
		return false, fmt.Errorf("replay store of %s: %w", list, err)
	}
	defer lock.Close()
	type rec struct {
		digest, entry string
		at            int64
	}
	var recs []rec
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 3 {
				continue
			}
			at, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || now.Sub(time.Unix(at, 0)) > keep {
				continue
			}
			recs = append(recs, rec{f[0], f[2], at})
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return false, fmt.Errorf("replay store of %s: %w", list, err)
		}
	} else if !os.IsNotExist(err) {
		return false, fmt.Errorf("replay store of %s: %w", list, err)
	}
	for _, x := range recs {
		if x.digest == digest {
			return x.entry != entryID, nil
		}
	}
	recs = append(recs, rec{digest, entryID, now.Unix()})
	max := r.Max
	if max <= 0 {
		max = MaxSignatures
	}
	if len(recs) > max {
		recs = recs[len(recs)-max:]
	}
	var b bytes.Buffer
	for _, x := range recs {
		fmt.Fprintf(&b, "%s %d %s\n", x.digest, x.at, x.entry)
	}
	return false, writeAtomic(path, b.Bytes())
}

// writeAtomic writes a file through the one durable writer (temp file,
// fsync, rename, directory fsync).
func writeAtomic(path string, data []byte) error {
	err := queue.WriteFileAtomic(path, 0o640, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("replay store: %w", err)
	}
	return nil
}
