package keyring_test

import (
	"cloister/keyring"
	"cloister/site"
)

// The runners reach the keyring through site.Keys.
var _ site.Keys = (*keyring.Keyring)(nil)
