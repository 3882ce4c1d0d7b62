package rawmime

import "errors"

// Errors of the MIME layer; the crypto layers (package mimecrypt) share the
// same values, so callers test either with errors.Is.
var (
	// ErrTooLarge means a size, nesting or count bound was exceeded (invariant 6).
	ErrTooLarge = errors.New("message exceeds a size, nesting or count limit")
	// ErrMalformed means the message could not be parsed.
	ErrMalformed = errors.New("malformed message")
)
