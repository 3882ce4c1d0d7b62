package keyring

import (
	"bytes"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// parsedPGP is a subscriber key as the keyring keeps it between lookups:
// parsed once from the stored record (raw is the record's key bytes, so a
// changed record, a revocation for instance, is parsed again), its
// self-signatures checked once (go-crypto caches each verification in the
// signature), and its last judgement (can it be encrypted to?) with the
// span of time that judgement holds for. A fan-out's lookups then do no
// signature verification and no judging for keys already judged; a lookup
// at a time outside the span (an expiry passed, a signature's creation or
// expiration reached, a clock set back) judges the key again.
type parsedPGP struct {
	raw    []byte
	entity *openpgp.Entity

	mu         sync.Mutex // guards the judgement, and go-crypto's lazy checks in entity
	judged     bool
	from       time.Time // the judgement holds for from <= now < until
	until      time.Time
	verdict    error // pgpEncryptable's answer
	judgements int   // how many times the key was judged (for tests)
}

// pgpParsed returns the parsed key of a record, parsing it once per
// keyring handle and record version. Parsing judges it at now too.
func (k *Keyring) pgpParsed(r *pgpRecord, now time.Time) (*parsedPGP, error) {
	k.mu.Lock()
	p := k.parsed[r.Fingerprint]
	k.mu.Unlock()
	if p != nil && bytes.Equal(p.raw, r.Key) {
		return p, nil
	}
	// Parsing and the first checks of the self-signatures run outside the
	// keyring's lock: the outgoing runner's workers look keys up in
	// parallel, and a fan-out's first use of each key would otherwise be
	// checked one key at a time.
	el, err := openpgp.ReadKeyRing(bytes.NewReader(r.Key))
	if err != nil || len(el) != 1 {
		return nil, fmt.Errorf("stored key %s does not parse: %v", r.Fingerprint, err)
	}
	p = &parsedPGP{raw: r.Key, entity: el[0]}
	// Signatures checked by an earlier process for these very bytes are
	// not verified again (pgpchecks.go); the others are, here.
	k.mu.Lock()
	marks, stored := k.storedMarks(r)
	k.mu.Unlock()
	if stored && applyMarks(p.entity, marks) != nil {
		stored = false
	}
	checkSignatures(p.entity)
	p.encryptable(now)
	k.mu.Lock()
	defer k.mu.Unlock()
	if q := k.parsed[r.Fingerprint]; q != nil && bytes.Equal(q.raw, r.Key) {
		return q, nil // another worker was first: share its entity
	}
	if !stored || marksOf(p.entity) != marks {
		k.keepMarks(r, p.entity)
	}
	k.parsed[r.Fingerprint] = p
	return p, nil
}

// checkSignatures verifies every self-signature of e once, at no particular
// time (go-crypto caches the outcome in each signature, and its time checks
// are made apart from that cache at each use), so that judging e later, at
// any time and from any goroutine, only reads what is cached.
func checkSignatures(e *openpgp.Entity) {
	pgpState(e, time.Time{})
	userIDAddresses(e)
}

// encryptable says why the key cannot be encrypted to at now (nil if it
// can), judging it only when now is outside the span of the last judgement.
func (p *parsedPGP) encryptable(now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.judged && !now.Before(p.from) && now.Before(p.until) {
		return p.verdict
	}
	p.verdict = pgpEncryptable(p.entity, now)
	p.from, p.until = judgementSpan(p.entity, now)
	p.judged = true
	p.judgements++
	return p.verdict
}

// judgementSpan returns the span around now in which no time that can
// change e's judgement falls: the creation and expiration times of its
// signatures and the expiration times of its key and subkeys. It is
// conservative: any such time, whichever signature it belongs to, bounds
// the span.
func judgementSpan(e *openpgp.Entity, now time.Time) (from, until time.Time) {
	from = time.Unix(math.MinInt32, 0)
	until = time.Unix(math.MaxInt64/2, 0)
	bound := func(t time.Time) {
		switch {
		case t.After(now):
			if t.Before(until) {
				until = t
			}
		case t.After(from):
			from = t
		}
	}
	var sig func(s *packet.Signature, key *packet.PublicKey)
	sig = func(s *packet.Signature, key *packet.PublicKey) {
		if s == nil {
			return
		}
		bound(s.CreationTime)
		if s.SigLifetimeSecs != nil && *s.SigLifetimeSecs > 0 {
			bound(s.CreationTime.Add(time.Duration(*s.SigLifetimeSecs) * time.Second))
		}
		if key != nil && s.KeyLifetimeSecs != nil && *s.KeyLifetimeSecs > 0 {
			bound(key.CreationTime.Add(time.Duration(*s.KeyLifetimeSecs) * time.Second))
		}
		if s.EmbeddedSignature != nil {
			sig(s.EmbeddedSignature, nil)
		}
	}
	verifiable := func(list []*packet.VerifiableSignature, key *packet.PublicKey) {
		for _, v := range list {
			if v != nil {
				sig(v.Packet, key)
			}
		}
	}
	primary := e.PrimaryKey
	bound(primary.CreationTime)
	verifiable(e.Revocations, primary)
	verifiable(e.DirectSignatures, primary)
	for _, id := range e.Identities {
		verifiable(id.SelfCertifications, primary)
		verifiable(id.Revocations, primary)
	}
	for i := range e.Subkeys {
		s := &e.Subkeys[i]
		bound(s.PublicKey.CreationTime)
		verifiable(s.Bindings, s.PublicKey)
		verifiable(s.Revocations, s.PublicKey)
	}
	return from, until
}
