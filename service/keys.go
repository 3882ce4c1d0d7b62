package service

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"time"

	"cloister/keyring"
	"cloister/lists"
	"cloister/rules"
)

// KeyListRequest asks for the keys of a list's members.
type KeyListRequest struct {
	List string `json:"list"`
}

// SubscriberKey is one key or certificate bound to a member's address.
type SubscriberKey struct {
	Address string `json:"address"`
	// Kind is pgp or x509.
	Kind        string    `json:"kind"`
	Fingerprint string    `json:"fingerprint"`
	Created     time.Time `json:"created,omitzero"`
	Expires     time.Time `json:"expires,omitzero"`
	// State is ok, expired, revoked, no-encryption-key, no-signing-key or
	// invalid.
	State string `json:"state"`
	// Usable is what the key can do now: sign, encrypt.
	Usable []string `json:"usable,omitempty"`
	// Note says how the key came in: owner-bound, captured, ...
	Note string `json:"note,omitempty"`
}

// KeyAddRequest adds a member's OpenPGP key or S/MIME certificate (PEM or
// DER) on an owner's authority. The site's admins may leave List empty to
// add a key for any address.
type KeyAddRequest struct {
	List    string `json:"list,omitempty"`
	Address string `json:"address"`
	Key     []byte `json:"key"`
	// Bind binds an OpenPGP key although no user ID carries the address
	// (the owner vouches).
	Bind bool `json:"bind,omitempty"`
	// Use is what a certificate is for: sign, encrypt or both (default).
	Use string `json:"use,omitempty"`
}

// KeyRevokeRequest removes a member's key or certificate (owners). The
// site's admins may leave List empty for any address.
type KeyRevokeRequest struct {
	List    string `json:"list,omitempty"`
	Address string `json:"address"`
	// Fingerprint names the key; empty removes every key of the address.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// MyKeyRequest asks for the keys bound to the actor's own address.
type MyKeyRequest struct {
	List string `json:"list"`
}

// KeyChallengeRequest starts setting the actor's own OpenPGP key: Key is
// the armored public key offered.
type KeyChallengeRequest struct {
	List string `json:"list"`
	Key  []byte `json:"key"`
}

// KeyChallenge is the text the offered key must sign (and, when the
// address has a key already, the old key too: security invariant 3).
type KeyChallenge struct {
	// ID names the challenge in KeyVerify.
	ID string `json:"id"`
	// Text is what to sign, as a clear-signed message or a detached
	// signature.
	Text string `json:"text"`
	// Fingerprint is the offered key's.
	Fingerprint string `json:"fingerprint"`
	// NeedsOldKey tells that a signature by the key now bound is needed too.
	NeedsOldKey bool      `json:"needs_old_key"`
	Expires     time.Time `json:"expires"`
}

// KeyVerifyRequest finishes setting the actor's own key: Signature is the
// challenge text signed by the offered key (clear-signed, or an armored
// detached signature); OldSignature the same by the key now bound, when
// the challenge asked for it.
type KeyVerifyRequest struct {
	List         string `json:"list"`
	ID           string `json:"id"`
	Signature    []byte `json:"signature"`
	OldSignature []byte `json:"old_signature,omitempty"`
}

// ListKeyRequest asks for a list's public OpenPGP key (Kind openpgp) or
// S/MIME certificate (smime).
type ListKeyRequest struct {
	List string `json:"list"`
	Kind string `json:"kind"`
}

// KeyWorkflows announces key changes and enrols proven keys as the mail
// path does. Package commands provides it (commands.Workflows): the
// announcements go to the address and the owners, and under the
// key_enrolment modes owner and vouched a proven key waits as a key
// request for the owners.
type KeyWorkflows interface {
	// Announce tells address and the owners of its lists about a key
	// event; by says who made it.
	Announce(address string, event rules.Reason, by any) error
	// Enrol binds a proven armored OpenPGP key to address through list l,
	// or records a key request under the enrolment modes that want the
	// owners' word; it returns the fingerprint, and pending with a message
	// when the key waits.
	Enrol(l *lists.List, address string, armored []byte, via rules.Reason) (fpr string, pending string, err error)
	// DecideKeyRequest decides the key request id of list l as the mail
	// path does (the owner's key approve and key refuse): an approved key
	// is bound through KeyBind, and the address and the owners are told.
	// It returns what was done.
	DecideKeyRequest(l *lists.List, a Actor, id string, approve bool) (string, error)
}

// WithKeyWorkflows sets the key workflows.
func WithKeyWorkflows(w KeyWorkflows) Option { return func(s *Service) { s.keyflows = w } }

var (
	opKeyList      = Op{"key.list", ClassRead, OpAdmin}
	opKeyAdd       = Op{"key.add", ClassAdmin, OpAdmin}
	opKeyRevoke    = Op{"key.revoke", ClassAdmin, OpAdmin}
	opKeyChallenge = Op{"key.challenge", ClassSelf, ""}
	opKeyVerify    = Op{"key.set", ClassSelf, "key"}
	opListKey      = Op{"key.export", ClassPublic, ""}
)

// MaxKeySize bounds a key or certificate given to an operation.
const MaxKeySize = 256 << 10

func subscriberKey(e keyring.Entry) SubscriberKey {
	return SubscriberKey{Address: e.Address, Kind: string(e.Kind), Fingerprint: e.Fingerprint, Created: e.Created,
		Expires: e.Expires, State: string(e.State), Usable: e.Usable, Note: e.Note}
}

// keysOf returns the subscriber keys bound to the addresses keep accepts.
func (s *Service) keysOf(keep func(address string) bool) ([]SubscriberKey, error) {
	k, err := s.openKeyring()
	if err != nil {
		return nil, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	es, err := k.Entries(s.now())
	if err != nil {
		return nil, internal(err, "read the keyring")
	}
	out := []SubscriberKey{}
	for _, e := range es {
		if !e.List && keep(strings.ToLower(e.Address)) {
			out = append(out, subscriberKey(e))
		}
	}
	return out, nil
}

// KeyList returns the keys and certificates bound to a list's members,
// with their state.
func (s *Service) KeyList(ctx context.Context, a Actor, req KeyListRequest) ([]SubscriberKey, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(a, opKeyList, l); err != nil {
		return nil, err
	}
	members := map[string]bool{}
	err = s.site.Lists.View(func(tx *lists.Tx) error {
		return tx.ForEachMember(l.Address, func(m *lists.Member) error {
			members[m.Key()] = true
			return nil
		})
	})
	if err != nil {
		return nil, storeError(err, "read the members")
	}
	return s.keysOf(func(addr string) bool { return members[addr] })
}

// member reads a member of l, or not_found.
func (s *Service) member(l *lists.List, address string) (*lists.Member, error) {
	var m *lists.Member
	err := s.site.Lists.View(func(tx *lists.Tx) error {
		var err error
		m, err = tx.Member(l.Address, address)
		return err
	})
	if errors.Is(err, lists.ErrNoMember) {
		return nil, wrapf(err, CodeNotFound, "%s is not on %s", address, l.Address)
	}
	return m, storeError(err, "read the member")
}

// isOpenPGP tells an OpenPGP key (armored, or binary packets) from X.509
// input (PEM, or DER starting with a SEQUENCE).
func isOpenPGP(data []byte) bool {
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		return true
	}
	return len(data) > 0 && data[0]&0x80 != 0 && data[0] != 0x30
}

// KeyAdd binds a member's OpenPGP key or S/MIME certificate on an owner's
// authority (security invariant 3: the owner's word replaces the old
// key's signature). An OpenPGP key must carry the address in a user ID
// unless Bind, which only the site's admins may give.
func (s *Service) KeyAdd(ctx context.Context, a Actor, req KeyAddRequest) (key SubscriberKey, err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opKeyAdd, addr, req.Address, err) }()
	l, err := s.keyList(a, opKeyAdd, req.List)
	if err != nil {
		return SubscriberKey{}, err
	}
	if req.Bind && !a.isSiteAdmin() {
		return SubscriberKey{}, errorf(CodeForbidden, "only the site's admins may bind a key that does not carry the address")
	}
	if len(req.Key) == 0 {
		return SubscriberKey{}, errorf(CodeInvalid, "no key given")
	}
	if len(req.Key) > MaxKeySize {
		return SubscriberKey{}, errorf(CodeTooLarge, "the key is larger than %d KiB", MaxKeySize>>10)
	}
	target, err := canonical(req.Address)
	if err != nil {
		return SubscriberKey{}, err
	}
	if l != nil {
		if _, err := s.member(l, target); err != nil {
			return SubscriberKey{}, err
		}
	}
	if err := s.keyOnFileGuard(a, target); err != nil {
		return SubscriberKey{}, err
	}
	use := keyring.UseBoth
	if req.Use != "" {
		use = keyring.Use(req.Use)
	}
	if err := s.authorizeKeyHolder(a, opKeyAdd, l, target); err != nil {
		return SubscriberKey{}, err
	}
	k, err := s.openKeyring()
	if err != nil {
		return SubscriberKey{}, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	var fpr, kind string
	if isOpenPGP(req.Key) {
		kind = "OpenPGP key"
		fpr, err = k.AddOpenPGP(target, req.Key, req.Bind)
	} else {
		kind = "certificate"
		fpr, err = k.AddCert(target, req.Key, use)
	}
	if err != nil {
		return SubscriberKey{}, wrapf(err, CodeInvalid, "the %s was not accepted: %v", kind, err)
	}
	if err := s.site.Lists.Update(func(tx *lists.Tx) error { return s.auditTx(tx, a, opKeyAdd, addrOf(l), target+" "+fpr, nil) }); err != nil {
		s.site.Log.Error("audit entry not written", "op", opKeyAdd.Name, "err", err)
	}
	event := rules.Reasonf("The OpenPGP key %s was bound to %s by %s.", fpr, target, whoSays(a))
	if kind == "certificate" {
		event = rules.Reasonf("The certificate %s was bound to %s by %s.", fpr, target, whoSays(a))
	}
	s.announce(target, event, whoSays(a))
	keys, err := s.keysOf(func(addr string) bool { return addr == target })
	if err != nil {
		return SubscriberKey{Address: target, Fingerprint: fpr}, nil
	}
	for _, sk := range keys {
		if strings.EqualFold(sk.Fingerprint, fpr) {
			return sk, nil
		}
	}
	return SubscriberKey{Address: target, Fingerprint: fpr}, nil
}

// keyList reads and authorizes the list of a key operation; the site's
// admins may name none (nil: any address).
func (s *Service) keyList(a Actor, op Op, name string) (*lists.List, error) {
	if name == "" {
		if !a.isSiteAdmin() {
			return nil, errorf(CodeInvalid, "no list given")
		}
		return nil, nil
	}
	l, err := s.loadList(name)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(a, op, l); err != nil {
		return nil, err
	}
	return l, nil
}

// addrOf is a list's address, or "" for none.
func addrOf(l *lists.List) string {
	if l == nil {
		return ""
	}
	return l.Address
}

// announce tells an address and its lists' owners about a key event; a
// failure is logged (the change stands).
// whoSays names the actor in a sentence mailed to members: a name or an
// address as it is, else the words of a Reason, which the list's catalogue
// translates.
func whoSays(a Actor) any {
	switch {
	case a.Method == MethodConsole && a.Name != "":
		return rules.Reasonf("the operator %s", a.Name)
	case a.Method == MethodConsole:
		return rules.Reasonf("operator")
	case a.Name != "":
		return a.Name
	case a.Address != "":
		return a.Address
	case a.Method == MethodToken:
		return rules.Reasonf("API token %s", a.Token)
	}
	return rules.Reasonf("operator")
}

func (s *Service) announce(address string, event rules.Reason, by any) {
	if s.keyflows == nil {
		return
	}
	if err := s.keyflows.Announce(address, event, by); err != nil {
		s.site.Log.Warn("key change not announced", "address", address, "err", err)
	}
}

// KeyRevoke unbinds a member's key or certificate (owners), or all of
// them when no fingerprint is given.
func (s *Service) KeyRevoke(ctx context.Context, a Actor, req KeyRevokeRequest) (err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opKeyRevoke, addr, req.Address, err) }()
	l, err := s.keyList(a, opKeyRevoke, req.List)
	if err != nil {
		return err
	}
	target, err := canonical(req.Address)
	if err != nil {
		return err
	}
	if l != nil {
		if _, err := s.member(l, target); err != nil {
			return err
		}
	}
	if err := s.keyOnFileGuard(a, target); err != nil {
		return err
	}
	if err := s.authorizeKeyHolder(a, opKeyRevoke, l, target); err != nil {
		return err
	}
	k, err := s.openKeyring()
	if err != nil {
		return wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	fprs := []string{req.Fingerprint}
	if req.Fingerprint == "" {
		keys, err := s.keysOf(func(addr string) bool { return addr == target })
		if err != nil {
			return err
		}
		fprs = fprs[:0]
		for _, sk := range keys {
			fprs = append(fprs, sk.Fingerprint)
		}
		if len(fprs) == 0 {
			return errorf(CodeNotFound, "no key is bound to %s", target)
		}
	}
	var removed []string
	for _, f := range fprs {
		r, err := k.Remove(target, f)
		if err != nil {
			return wrapf(err, CodeNotFound, "%v", err)
		}
		removed = append(removed, r)
	}
	if err := s.site.Lists.Update(func(tx *lists.Tx) error {
		return s.auditTx(tx, a, opKeyRevoke, addrOf(l), target+" "+strings.Join(removed, ","), nil)
	}); err != nil {
		s.site.Log.Error("audit entry not written", "op", opKeyRevoke.Name, "err", err)
	}
	s.announce(target, rules.Reasonf("The key %s was unbound from %s by %s.", strings.Join(removed, ", "), target, whoSays(a)), whoSays(a))
	return nil
}

// MyKey returns the keys and certificates bound to the actor's address.
func (s *Service) MyKey(ctx context.Context, a Actor, req MyKeyRequest) ([]SubscriberKey, error) {
	if !a.isPerson() || a.Address == "" {
		return nil, errorf(CodeInvalid, "only a person logged in with an address has keys")
	}
	if a.Method == rules.MethodSMTP && a.Via != ViaMail {
		return nil, errorf(CodeUnauthenticated, "log in first")
	}
	me := strings.ToLower(a.Address)
	return s.keysOf(func(addr string) bool { return addr == me })
}

// ListKeyExport returns a list's public OpenPGP key (armored) or S/MIME
// certificate (PEM): what subscribers encrypt posts to.
func (s *Service) ListKeyExport(ctx context.Context, a Actor, req ListKeyRequest) (Export, error) {
	l, err := s.loadList(req.List)
	if Code(err) == CodeNotFound && a.isSiteAdmin() {
		// The operator exports keys made before their list.
		l, err = &lists.List{Address: s.listAddress(req.List)}, nil
	}
	if err != nil {
		return Export{}, err
	}
	if err := s.authorize(a, opListKey, l); err != nil {
		return Export{}, err
	}
	k, err := s.openKeyring()
	if err != nil {
		return Export{}, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	switch strings.ToLower(req.Kind) {
	case "openpgp", "pgp", "":
		b, err := k.ExportOpenPGP(l.Address)
		if errors.Is(err, keyring.ErrNoListKey) {
			return Export{}, wrapf(err, CodeNotFound, "%s has no OpenPGP key", l.Address)
		}
		if err != nil {
			return Export{}, internal(err, "export the list key")
		}
		return Export{ContentType: "application/pgp-keys", Data: b}, nil
	case "smime", "x509":
		b, err := k.ExportSMIME(l.Address)
		if errors.Is(err, keyring.ErrNoListKey) {
			return Export{}, wrapf(err, CodeNotFound, "%s has no S/MIME certificate", l.Address)
		}
		if err != nil {
			return Export{}, internal(err, "export the list certificate")
		}
		return Export{ContentType: "application/x-pem-file", Data: b}, nil
	}
	return Export{}, errorf(CodeInvalid, "kind %q: want openpgp or smime", req.Kind)
}
