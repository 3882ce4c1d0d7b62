package ownmail

import (
	"time"

	"cloister/internal/site"
)

// CanEncrypt reports whether mail from the list to addr can be encrypted:
// the list has a key of a technology for which addr has a usable key.
func CanEncrypt(s *site.Site, list, addr string, now time.Time) bool {
	k := s.Keys
	if k == nil {
		return false
	}
	if _, err := k.ListPGP(list); err == nil {
		if _, err := k.EncryptionPGP(addr, now); err == nil {
			return true
		}
	}
	if _, _, _, err := k.ListSMIME(list); err == nil {
		if _, err := k.EncryptionCert(addr, now); err == nil {
			return true
		}
	}
	return false
}
