package keyring_test

import (
	"cloister/internal/site"
	"cloister/keyring"
)

// The runners reach the keyring through site.Keys.
var _ site.Keys = (*keyring.Keyring)(nil)
