package pgp

import (
	"io"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// Pieces is the message For returns, in the three pieces a fan-out writes:
// Head (the MIME header and the armor lines of the recipients' key packets,
// different for every message), the shared armor of the rest of the
// encrypted body, and Trailer (the armor checksum and the closing lines).
// When the body's armor is kept (a small post), Shared holds it, and every
// message of one Sealed with the same SharedID has the very same Shared
// slice, so that a sender can encode it for the wire once. Otherwise (a
// large post, past the cache budget) SharedID is -1, Shared is nil, and
// WriteShared armors the body as it writes it, in chunks, so that no copy
// holds its own armor. All pieces have CRLF line ends, no line that starts
// with a dot, and end in CRLF; none may be changed.
type Pieces struct {
	Head, Shared, Trailer []byte
	SharedID              int

	rest []byte // the body bytes WriteShared armors (SharedID -1)
}

// SharedLen is the length of the shared armor.
func (p Pieces) SharedLen() int {
	if p.Shared != nil {
		return len(p.Shared)
	}
	return armoredLen(len(p.rest))
}

// WriteShared writes the shared armor to w: Shared, or the armor of the
// body made in chunks as it is written.
func (p Pieces) WriteShared(w io.Writer) error {
	if p.Shared != nil {
		_, err := w.Write(p.Shared)
		return err
	}
	return writeArmorLines(w, p.rest)
}

// PiecesFor returns For's message for recipients in pieces (see Pieces).
// Errors are as for For.
func (s *Sealed) PiecesFor(recipients ...*openpgp.Entity) (Pieces, error) {
	m, err := s.message(recipients)
	if err != nil {
		return Pieces{}, err
	}
	if m.tail == nil {
		return Pieces{Head: m.head, Trailer: m.trailer, SharedID: -1, rest: m.rest}, nil
	}
	return Pieces{Head: m.head, Shared: m.tail, Trailer: m.trailer, SharedID: m.sharedID}, nil
}
