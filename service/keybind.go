package service

import (
	"context"
	"errors"
	"strings"

	"cloister/keyring"
	"cloister/lists"
)

// Grounds on which a key change is made, recorded in the audit log. The
// email commands prove them before they call (security invariant 3): a
// mail signed with the key on file (self), an owner's signed command
// (owner), a key request the owners approved (approved), a member's vouch
// (vouch), a key proven by its holder's signature under the list's
// key_enrolment mode (enrolled), a revocation certificate made by the key
// (revocation).
const (
	GroundsSelf       = "self"
	GroundsOwner      = "owner"
	GroundsApproved   = "approved"
	GroundsVouch      = "vouch"
	GroundsEnrolled   = "enrolled"
	GroundsRevocation = "revocation"
)

var (
	opKeyBind      = Op{"key.bind", ClassAdmin, OpAdmin}
	opKeyUnbind    = Op{"key.unbind", ClassAdmin, OpAdmin}
	opCertWithdraw = Op{"key.withdraw", ClassAdmin, OpAdmin}
	opKeyCertify   = Op{"key.certify", ClassSelf, ""}
)

// KeyBindRequest binds an OpenPGP key (PGP, armored or binary) or an
// S/MIME certificate (Cert, DER) to Address in place of the address's
// keys of that kind.
type KeyBindRequest struct {
	List    string `json:"list"`
	Address string `json:"address"`
	PGP     []byte `json:"pgp,omitempty"`
	Cert    []byte `json:"cert,omitempty"`
	// Trusted asks that the certificate pass KeyStore.CheckCert (its
	// holder's request); without, an owner's word is enough.
	Trusted bool `json:"trusted,omitempty"`
	// Grounds says what proved the change (GroundsSelf, ...).
	Grounds string `json:"grounds"`
}

// KeyUnbindRequest unbinds the OpenPGP key of Address.
type KeyUnbindRequest struct {
	List    string `json:"list"`
	Address string `json:"address"`
	Grounds string `json:"grounds"`
}

// CertWithdrawRequest marks a certificate (DER) of Address withdrawn by
// its holder.
type CertWithdrawRequest struct {
	List    string `json:"list"`
	Address string `json:"address"`
	Cert    []byte `json:"cert"`
}

// ListKeyCertifyRequest records a member's verified certification of the
// list's OpenPGP key.
type ListKeyCertifyRequest struct {
	List string           `json:"list"`
	Cert keyring.ListCert `json:"cert"`
}

// WithKeyStore sets where the email key commands' changes are made
// (KeyBind, KeyUnbind, CertWithdraw, ListKeyCertify); without one those
// operations are unavailable.
func WithKeyStore(ks KeyStore) Option { return func(s *Service) { s.keyStore = ks } }

// authorizeKeyChange decides a change of address's key through list l on
// the grounds given. The site's admins may make any. An owner's change
// (GroundsOwner) is authorized as an owner operation on l and on every
// other list address is on; an approved key request as one on l. The other grounds
// are the key holder's own proof or a member's vouch, which the email
// commands check before they call (security invariant 3); they are taken
// only from a person by mail, or for an enrolment (which KeyVerify proves
// on the web and the API too) from a person, never from a token.
func (s *Service) authorizeKeyChange(a Actor, op Op, l *lists.List, address, grounds string) error {
	if a.isSiteAdmin() {
		return nil
	}
	switch grounds {
	case GroundsOwner:
		if err := s.authorize(a, op, l); err != nil {
			return err
		}
		return s.authorizeKeyHolder(a, op, l, address)
	case GroundsApproved:
		// A key request waits under the strictest enrolment mode of the
		// address's lists; an owner of the list it was made on decides it
		// and the owners of the others are told.
		return s.authorize(a, op, l)
	case GroundsSelf, GroundsRevocation, GroundsEnrolled, GroundsVouch:
		if !a.isPerson() || (grounds != GroundsEnrolled && a.Via != ViaMail) {
			return errorf(CodeForbidden, "a key holder's own proof is given by mail or with KeyChallenge and KeyVerify")
		}
		if grounds != GroundsVouch && grounds != GroundsEnrolled && !strings.EqualFold(a.Address, address) {
			return errorf(CodeForbidden, "only %s may change their own key on these grounds", address)
		}
		return nil
	}
	return errorf(CodeInvalid, "unknown grounds %q for a key change", grounds)
}

// keyChange runs one change of the key store, authorized and audited.
func (s *Service) keyChange(a Actor, op Op, list, address, grounds string, change func(ks KeyStore) (string, error)) (fpr string, err error) {
	target := address
	defer func() {
		if err != nil {
			s.audit(a, op, list, target, err)
		}
	}()
	if s.keyStore == nil {
		return "", errorf(CodeUnavailable, "keys cannot be changed on this server")
	}
	l, err := s.loadList(list)
	if err != nil {
		return "", err
	}
	if err := s.authorizeKeyChange(a, op, l, address, grounds); err != nil {
		return "", err
	}
	fpr, err = change(s.keyStore)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return "", err
		}
		if op == opKeyBind {
			// The store's reason why the key is not taken is the holder's to read.
			return "", wrapf(err, CodeInvalid, "%v", err)
		}
		return "", internal(err, "change the key")
	}
	target = strings.TrimSpace(address + " " + fpr)
	if grounds != "" {
		target += " (" + grounds + ")"
	}
	s.auditDone(a, op, l.Address, target)
	return fpr, nil
}

// auditDone records a change made outside the lists store (the keyring).
// A failure to record is logged: the change stands.
func (s *Service) auditDone(a Actor, op Op, list, target string) {
	e := a.entry(op, list, target, nil)
	if werr := s.site.Lists.Update(func(tx *lists.Tx) error { return tx.AppendAudit(e) }); werr != nil {
		s.site.Log.Error("audit entry not written", "op", op.Name, "list", list, "err", werr)
	}
}

// KeyBind binds a key or certificate to an address in place of its keys
// of that kind, on the grounds the request names; it returns the
// fingerprint. It is the one way the email key commands change a key.
func (s *Service) KeyBind(ctx context.Context, a Actor, req KeyBindRequest) (string, error) {
	return s.keyChange(a, opKeyBind, req.List, req.Address, req.Grounds, func(ks KeyStore) (string, error) {
		if len(req.PGP) > MaxKeySize || len(req.Cert) > MaxKeySize {
			return "", errorf(CodeTooLarge, "the key is larger than %d bytes", MaxKeySize)
		}
		if len(req.Cert) > 0 {
			return ks.SetSubscriberCert(req.Address, req.Cert, req.Trusted)
		}
		return ks.SetSubscriberPGP(req.Address, req.PGP, s.now())
	})
}

// KeyUnbind unbinds the OpenPGP key of an address; it returns the
// fingerprint that was bound.
func (s *Service) KeyUnbind(ctx context.Context, a Actor, req KeyUnbindRequest) (string, error) {
	return s.keyChange(a, opKeyUnbind, req.List, req.Address, req.Grounds, func(ks KeyStore) (string, error) {
		old, err := ks.SubscriberPGP(req.Address)
		if err != nil {
			return "", err
		}
		return old, ks.RevokeSubscriberPGP(req.Address)
	})
}

// CertWithdraw marks a certificate of the actor's address withdrawn (the
// holder's S/MIME-signed request); it returns the fingerprint.
func (s *Service) CertWithdraw(ctx context.Context, a Actor, req CertWithdrawRequest) (string, error) {
	return s.keyChange(a, opCertWithdraw, req.List, req.Address, GroundsSelf, func(ks KeyStore) (string, error) {
		return ks.WithdrawCert(req.Address, req.Cert)
	})
}

// ListKeyCertify records a member's certification of the list's key, which
// the key sign command verified against the member's key on file.
func (s *Service) ListKeyCertify(ctx context.Context, a Actor, req ListKeyCertifyRequest) error {
	_, err := s.keyChange(a, opKeyCertify, req.List, a.Address, GroundsSelf, func(ks KeyStore) (string, error) {
		return req.Cert.Issuer, ks.CertifyListPGP(req.List, req.Cert)
	})
	return err
}
