package service

import "cloister/rules"

// keyOnFileGuard refuses an owner proven only by an email token or by
// unsigned mail (md5, smtp) replacing or revoking a key or certificate on
// file for target (one not revoked or expired), hers or a member's:
// whoever reads an owner's mailbox would otherwise swap in keys of their
// own, and get the encrypted posts and sign as the member. A key on file
// changes only with its holder's old key's signature (KeyVerify) or on the
// authority of a signed login (pgp, smime) or of the site (console, API
// tokens). A first key for an address with none needs no more than the
// owner's word.
func (s *Service) keyOnFileGuard(a Actor, target string) error {
	if !a.isPerson() || a.Method == rules.MethodPGP || a.Method == rules.MethodSMIME {
		return nil
	}
	keys, err := s.keysOf(func(addr string) bool { return addr == target })
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.State != "revoked" && k.State != "expired" {
			return errorf(CodeForbidden, "%s has a key on file (%s): it is changed or revoked only with its holder's old key's signature, or by an owner logged in with a signature (certificate), not by one logged in by email", target, k.Fingerprint)
		}
	}
	return nil
}
