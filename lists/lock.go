package lists

import "cloister/internal/boltfile"

// ErrLockTimeout is returned when the database lock could not be taken within
// Store.Timeout. It is a temporary condition: the caller may retry later.
// It is boltfile.ErrLockTimeout, shared with the keyring.
var ErrLockTimeout = boltfile.ErrLockTimeout
