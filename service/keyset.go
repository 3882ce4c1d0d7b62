package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/lists"
	"cloister/rules"
)

// TokenKeyChallenge is the action of the tokens naming a key challenge.
const TokenKeyChallenge = "svc-key-challenge"

// keyChallengeTTL is how long a key challenge may be answered.
const keyChallengeTTL = time.Hour

// challengeData is what a key challenge's token keeps.
type challengeData struct {
	Key  string `json:"key"`
	Fpr  string `json:"fpr"`
	Old  string `json:"old,omitempty"`
	Text string `json:"text"`
}

// currentPGP returns the fingerprint and entity of the OpenPGP key bound
// to address whose signature a change must carry: the one the list would
// encrypt to, else a bound key that can only sign (a key without an
// encryption subkey still proves its holder, so it is no less on file);
// "" when none can sign (none, expired or revoked).
func (s *Service) currentPGP(address string) (string, *openpgp.Entity, error) {
	k, err := s.openKeyring()
	if err != nil {
		return "", nil, err
	}
	e, err := k.EncryptionKeyPGP(address, s.now())
	if err != nil {
		if e, err = k.SigningKeyPGP(address, s.now()); err != nil {
			return "", nil, nil // nothing can prove a change with it
		}
	}
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint), e, nil
}

// selfKeyActor checks that the actor is a person who may set their own
// key on l: a member, proven by more than unsigned mail.
func (s *Service) selfKeyActor(a Actor, l *lists.List) error {
	if !a.isPerson() || a.Address == "" {
		return errorf(CodeForbidden, "only a member logged in with their address sets their own key; owners use key add")
	}
	if a.Method == rules.MethodSMTP {
		return errorf(CodeUnauthenticated, "log in first")
	}
	if _, err := s.member(l, a.Address); err != nil {
		return errorf(CodeForbidden, "%s is not on %s", a.Address, l.Address)
	}
	return nil
}

// KeyChallenge starts setting the actor's own OpenPGP key: it returns a
// text the offered key must sign, and says whether the key bound now must
// sign it too (a key already on file is changed only with its signature:
// security invariant 3).
func (s *Service) KeyChallenge(ctx context.Context, a Actor, req KeyChallengeRequest) (ch KeyChallenge, err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opKeyChallenge, addr, a.Address, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return KeyChallenge{}, err
	}
	if err := s.selfKeyActor(a, l); err != nil {
		return KeyChallenge{}, err
	}
	if len(req.Key) > MaxKeySize {
		return KeyChallenge{}, errorf(CodeTooLarge, "the key is larger than %d KiB", MaxKeySize>>10)
	}
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(req.Key))
	if err != nil || len(el) != 1 {
		return KeyChallenge{}, errorf(CodeInvalid, "give one armored OpenPGP public key")
	}
	e := el[0]
	if !carries(e, a.Address) {
		return KeyChallenge{}, errorf(CodeInvalid, "the key has no user ID with the address %s", a.Address)
	}
	fpr := fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
	old, _, err := s.currentPGP(a.Address)
	if err != nil {
		return KeyChallenge{}, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	if strings.EqualFold(old, fpr) {
		return KeyChallenge{}, errorf(CodeConflict, "the key %s is already bound to %s", fpr, a.Address)
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return KeyChallenge{}, internal(err, "make the challenge")
	}
	text := fmt.Sprintf("Cloister key challenge %s: bind the OpenPGP key %s to %s on %s.", hex.EncodeToString(nonce[:]), fpr, a.Address, l.Address)
	data, err := json.Marshal(challengeData{Key: string(req.Key), Fpr: fpr, Old: old, Text: text})
	if err != nil {
		return KeyChallenge{}, internal(err, "make the challenge")
	}
	t := &lists.Token{List: l.Address, Address: a.Address, Action: TokenKeyChallenge, Data: string(data),
		Expires: s.now().Add(keyChallengeTTL).UTC()}
	if err := s.site.Lists.Update(func(tx *lists.Tx) error { return tx.NewToken(t, keyChallengeTTL) }); err != nil {
		return KeyChallenge{}, internal(err, "make the challenge")
	}
	d := challengeData{Text: text}
	return KeyChallenge{ID: t.Value, Text: d.Text, Fingerprint: fpr, NeedsOldKey: old != "", Expires: t.Expires}, nil
}

// carries tells whether a key has a user ID with address.
func carries(e *openpgp.Entity, address string) bool {
	for _, id := range e.Identities {
		if id.UserId != nil && strings.EqualFold(strings.TrimSpace(id.UserId.Email), strings.TrimSpace(address)) {
			return true
		}
	}
	return false
}

// KeyVerify finishes setting the actor's own key: the challenge text must
// be signed by the offered key and, when a key was bound already, by that
// key too. Then the list's key scenario decides (as for a mail signed by
// the new key) and the key is enrolled as by mail: bound at once, or kept
// as a key request for the owners (CodePending) under the enrolment modes
// owner and vouched; a key change signed by the old key is bound at once.
func (s *Service) KeyVerify(ctx context.Context, a Actor, req KeyVerifyRequest) (key SubscriberKey, err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opKeyVerify, addr, a.Address, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return SubscriberKey{}, err
	}
	if err := s.selfKeyActor(a, l); err != nil {
		return SubscriberKey{}, err
	}
	if len(req.Signature) > MaxKeySize || len(req.OldSignature) > MaxKeySize {
		return SubscriberKey{}, errorf(CodeTooLarge, "the signature is larger than %d KiB", MaxKeySize>>10)
	}
	var t *lists.Token
	err = s.site.Lists.View(func(tx *lists.Tx) error {
		var err error
		t, err = tx.Token(req.ID)
		return err
	})
	if err != nil || t.Action != TokenKeyChallenge || !t.Used.IsZero() || !strings.EqualFold(t.List, l.Address) || !a.is(t.Address) {
		if errors.Is(err, lists.ErrTokenExpired) {
			return SubscriberKey{}, errorf(CodeInvalid, "the challenge expired; ask for a new one")
		}
		return SubscriberKey{}, errorf(CodeNotFound, "no such key challenge for %s", a.Address)
	}
	var d challengeData
	if err := json.Unmarshal([]byte(t.Data), &d); err != nil {
		return SubscriberKey{}, internal(err, "read the challenge")
	}
	el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(d.Key))
	if err != nil || len(el) != 1 {
		return SubscriberKey{}, internal(fmt.Errorf("challenge key: %v", err), "read the challenge")
	}
	if err := verifySigned(el[0], d.Text, req.Signature, s.now()); err != nil {
		return SubscriberKey{}, wrapf(err, CodeForbidden, "the challenge is not signed by the key %s; a key is bound only with proof that you hold it", d.Fpr)
	}
	old, oldKey, err := s.currentPGP(a.Address)
	if err != nil {
		return SubscriberKey{}, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	if old != "" {
		if err := verifySigned(oldKey, d.Text, req.OldSignature, s.now()); err != nil {
			return SubscriberKey{}, wrapf(err, CodeForbidden, "a key is on file for %s: the challenge must be signed by it (%s) too", a.Address, old)
		}
	}
	// Spend the challenge before binding: it is good once.
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		_, err := tx.UseToken(req.ID)
		return err
	})
	if err != nil {
		return SubscriberKey{}, errorf(CodeNotFound, "no such key challenge for %s", a.Address)
	}
	// As for a mail: the answer signed by the new key makes the request pgp.
	pa := a
	pa.Method, pa.Mail = rules.MethodPGP, nil
	dec, err := s.Decide(pa, l, "key")
	if err != nil {
		return SubscriberKey{}, internal(err, "check the list's rules")
	}
	if dec.Action != rules.ScenarioDoIt {
		return SubscriberKey{}, errorf(CodeForbidden, "%s", ReasonText(dec.Reason))
	}
	k, err := s.openKeyring()
	if err != nil {
		return SubscriberKey{}, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	var fpr string
	if old != "" {
		if fpr, err = k.AddOpenPGP(a.Address, []byte(d.Key), false); err != nil {
			return SubscriberKey{}, wrapf(err, CodeInvalid, "the key was not accepted: %v", err)
		}
		if _, err := k.Remove(a.Address, old); err != nil {
			return SubscriberKey{}, internal(err, "unbind the old key")
		}
		s.announce(a.Address, rules.Reasonf("The OpenPGP key for %s is now %s; it was %s (key change on the %s, signed with the old key).", a.Address, fpr, old, a.Via), a.Address)
	} else {
		if s.keyflows == nil {
			return SubscriberKey{}, errorf(CodeUnavailable, "keys cannot be enrolled here")
		}
		var pending string
		fpr, pending, err = s.keyflows.Enrol(l, a.Address, []byte(d.Key), rules.Reasonf("key set on the %s", a.Via))
		if err != nil {
			return SubscriberKey{}, asError(err, "bind the key")
		}
		if pending != "" {
			return SubscriberKey{}, errorf(CodePending, "%s", pending)
		}
	}
	if err := s.site.Lists.Update(func(tx *lists.Tx) error { return s.auditTx(tx, a, opKeyVerify, l.Address, a.Address+" "+fpr, nil) }); err != nil {
		s.site.Log.Error("audit entry not written", "op", opKeyVerify.Name, "err", err)
	}
	me := strings.ToLower(a.Address)
	keys, err := s.keysOf(func(addr string) bool { return addr == me })
	if err == nil {
		for _, sk := range keys {
			if strings.EqualFold(sk.Fingerprint, fpr) {
				return sk, nil
			}
		}
	}
	return SubscriberKey{Address: a.Address, Kind: "pgp", Fingerprint: fpr}, nil
}

// verifySigned checks that sig is a good signature by key over text: a
// clear-signed message whose text is the challenge, or a detached
// signature (armored or binary) over it.
func verifySigned(key *openpgp.Entity, text string, sig []byte, now time.Time) error {
	if len(bytes.TrimSpace(sig)) == 0 {
		return errors.New("no signature given")
	}
	cfg := &packet.Config{Time: func() time.Time { return now }}
	kr := openpgp.EntityList{key}
	if b, _ := clearsign.Decode(sig); b != nil {
		if strings.TrimSpace(string(b.Plaintext)) != strings.TrimSpace(text) {
			return errors.New("the signed text is not the challenge")
		}
		_, _, err := openpgp.VerifyDetachedSignature(kr, bytes.NewReader(b.Bytes), b.ArmoredSignature.Body, cfg)
		return err
	}
	raw := sig
	if blk, err := armor.Decode(bytes.NewReader(sig)); err == nil {
		if raw, err = io.ReadAll(io.LimitReader(blk.Body, MaxKeySize)); err != nil {
			return err
		}
	}
	var last error
	for _, t := range []string{text, text + "\n", text + "\r\n"} {
		_, _, err := openpgp.VerifyDetachedSignature(kr, strings.NewReader(t), bytes.NewReader(raw), cfg)
		if err == nil {
			return nil
		}
		last = err
	}
	return last
}
