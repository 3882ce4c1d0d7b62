package pgp

import openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

// Pieces is the message For returns, in the three pieces a fan-out writes:
// Head (the MIME header and the armor lines of the recipients' key packets,
// different for every message), Shared (the armor of the rest of the
// encrypted body) and Trailer (the armor checksum and the closing lines).
// Every message of one Sealed with the same SharedID has the very same
// Shared slice, so that a sender can encode it for the wire once; SharedID
// is -1 when the body's armor is not kept (a large post past the cache
// budget) and Shared was armored for this message alone. All three pieces
// have CRLF line ends; none may be changed.
type Pieces struct {
	Head, Shared, Trailer []byte
	SharedID              int
}

// PiecesFor returns For's message for recipients in pieces (see Pieces).
// Errors are as for For.
func (s *Sealed) PiecesFor(recipients ...*openpgp.Entity) (Pieces, error) {
	m, err := s.message(recipients)
	if err != nil {
		return Pieces{}, err
	}
	if m.tail == nil {
		return Pieces{Head: m.head, Shared: appendArmorLines(make([]byte, 0, armoredLen(len(m.rest))), m.rest, "\r\n"),
			Trailer: m.trailer, SharedID: -1}, nil
	}
	return Pieces{Head: m.head, Shared: m.tail, Trailer: m.trailer, SharedID: m.sharedID}, nil
}
