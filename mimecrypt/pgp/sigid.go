package pgp

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// sigIDDomain starts every OpenPGP signature identity, so that it can never
// equal an S/MIME one or a hash computed for another purpose.
const sigIDDomain = "cloister openpgp signature id v1"

// signatureID returns the replay identity of a verified signature: what was
// signed, not how the signature happens to be encoded. It hashes the signer's
// primary key fingerprint, the signature type and hash algorithm, the hashed
// part of the signature packet (version, type, algorithms and the hashed
// subpacket area, exactly as the signature covers them: HashSuffix) and the
// digest that the signature verified, which covers the signed data (as the
// verifier canonicalised it), the v6 salt and that hashed part.
//
// Left out on purpose: the unhashed subpacket area (anyone may add to it
// without the key), the packet framing (old or new format, partial lengths)
// and the signature values (MPIs), since ECDSA and EdDSA signatures can be
// re-encoded or made anew over the same digest. Two signatures share an
// identity only when the same key signed the same digest.
//
// verified is the hash state that verified the signature (go-crypto's
// SignatureCandidate.Hash, which then holds the data and HashSuffix); "" is
// returned when it is missing.
func signatureID(primaryFpr []byte, sig *packet.Signature, verified hash.Hash) string {
	if sig == nil || verified == nil || len(primaryFpr) == 0 {
		return ""
	}
	digest := verified.Sum(nil)
	h := sha256.New()
	field := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(sigIDDomain))
	field(primaryFpr)
	field([]byte{byte(sig.SigType)})
	field([]byte(sig.Hash.String()))
	field(sig.HashSuffix)
	field(digest)
	return "pgp:" + hex.EncodeToString(h.Sum(nil))
}
