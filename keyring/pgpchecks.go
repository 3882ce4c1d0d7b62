package keyring

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/safeio"
)

// checksVersion names the layout of the checks file and the order of
// sigList; a file of another version is ignored.
const checksVersion = 1

// The checks file (the keyring's path + ".checks") keeps, across processes,
// the outcome of verifying the self-signatures of subscribers' keys: per
// fingerprint, the SHA-256 of the stored record's key bytes and one mark per
// signature ('1' valid, '0' invalid, '-' not verified). A new process (a
// `cloister runner outgoing --once` for a post) that finds a key's record
// unchanged takes the marks instead of verifying every signature again; the
// judgement at a given time (expiry, revocation) is still made from the
// key's contents at each lookup, as for keys parsed in the process. The
// file is authenticated with a key derived from the keyring passphrase: a
// process without the passphrase neither reads nor writes it, and a file
// changed by anyone without it is ignored.
type checksFile struct {
	Version int                  `json:"version"`
	Keys    map[string]checkMark `json:"keys"`
}

type checkMark struct {
	Sum   []byte `json:"sum"`   // SHA-256 of the record's key bytes
	Marks string `json:"marks"` // one per signature of sigList
}

// checks is the keyring handle's view of the checks file, loaded on the
// first key parsed.
type checks struct {
	loaded bool
	marks  map[string]checkMark
	dirty  bool // marks added since the file was read or written
}

func (k *Keyring) checksPath() string { return k.file.Path + ".checks" }

// checksKey is the HMAC key of the checks file, nil without a passphrase.
func (k *Keyring) checksKey() []byte {
	if len(k.passphrase) == 0 {
		return nil
	}
	h := sha256.New()
	h.Write([]byte("cloister keyring signature checks\x00"))
	h.Write(k.passphrase)
	return h.Sum(nil)
}

// storedMarks returns the marks kept for a record, if they are for its
// bytes. k.mu must be held.
func (k *Keyring) storedMarks(r *pgpRecord) (string, bool) {
	if !k.checks.loaded {
		k.checks.loaded = true
		k.checks.marks = k.readChecks()
	}
	m, ok := k.checks.marks[r.Fingerprint]
	if !ok {
		return "", false
	}
	sum := sha256.Sum256(r.Key)
	return m.Marks, bytes.Equal(m.Sum, sum[:])
}

// keepMarks records the marks of a record's parsed key. k.mu must be held.
func (k *Keyring) keepMarks(r *pgpRecord, e *openpgp.Entity) {
	if k.checksKey() == nil {
		return
	}
	if k.checks.marks == nil {
		k.checks.marks = map[string]checkMark{}
	}
	sum := sha256.Sum256(r.Key)
	k.checks.marks[r.Fingerprint] = checkMark{Sum: sum[:], Marks: marksOf(e)}
	k.checks.dirty = true
}

// readChecks reads the checks file; a missing, unreadable or
// unauthenticated file counts as empty (the keys are then verified).
func (k *Keyring) readChecks() map[string]checkMark {
	key := k.checksKey()
	if key == nil {
		return nil
	}
	b, err := os.ReadFile(k.checksPath())
	if err != nil || len(b) < sha256.Size {
		return nil
	}
	mac, body := b[:sha256.Size], b[sha256.Size:]
	h := hmac.New(sha256.New, key)
	h.Write(body)
	if !hmac.Equal(mac, h.Sum(nil)) {
		return nil
	}
	var f checksFile
	if json.Unmarshal(body, &f) != nil || f.Version != checksVersion {
		return nil
	}
	return f.Keys
}

// SaveChecks writes the outcome of the signature checks made by this handle
// to the checks file, when there is anything new, so that another process
// does not verify the same keys again (see checksFile). Marks of keys no
// longer in the keyring are dropped.
func (k *Keyring) SaveChecks() error {
	key := k.checksKey()
	if key == nil {
		return nil
	}
	s, err := k.current()
	if err != nil {
		return err
	}
	k.mu.Lock()
	if !k.checks.dirty {
		k.mu.Unlock()
		return nil
	}
	f := checksFile{Version: checksVersion, Keys: make(map[string]checkMark, len(k.checks.marks))}
	for fpr, m := range k.checks.marks {
		if s.pgp[fpr] != nil {
			f.Keys[fpr] = m
		}
	}
	k.checks.dirty = false
	k.mu.Unlock()
	body, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode signature checks: %w", err)
	}
	h := hmac.New(sha256.New, key)
	h.Write(body)
	err = safeio.WriteFunc(k.checksPath(), 0o600, func(w io.Writer) error {
		if _, err := w.Write(h.Sum(nil)); err != nil {
			return err
		}
		_, err := w.Write(body)
		return err
	})
	if err != nil {
		k.mu.Lock()
		k.checks.dirty = true
		k.mu.Unlock()
		return fmt.Errorf("write signature checks %s: %w", k.checksPath(), err)
	}
	return nil
}

// sigList returns every signature of e whose verification go-crypto
// caches, in a fixed order: the primary key's revocations and direct
// signatures, each identity's (by name) self-certifications and
// revocations, each subkey's bindings and revocations.
func sigList(e *openpgp.Entity) []*packet.VerifiableSignature {
	out := append(append([]*packet.VerifiableSignature(nil), e.Revocations...), e.DirectSignatures...)
	names := make([]string, 0, len(e.Identities))
	for n := range e.Identities {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		id := e.Identities[n]
		out = append(append(out, id.SelfCertifications...), id.Revocations...)
	}
	for i := range e.Subkeys {
		out = append(append(out, e.Subkeys[i].Bindings...), e.Subkeys[i].Revocations...)
	}
	return out
}

// marksOf returns the marks of e's verified signatures.
func marksOf(e *openpgp.Entity) string {
	sigs := sigList(e)
	b := make([]byte, len(sigs))
	for i, s := range sigs {
		switch {
		case s == nil || s.Valid == nil:
			b[i] = '-'
		case *s.Valid:
			b[i] = '1'
		default:
			b[i] = '0'
		}
	}
	return string(b)
}

// errMarks means stored marks do not fit a key's signatures.
var errMarks = errors.New("stored signature marks do not fit the key")

// applyMarks sets the verification outcome of e's signatures from marks,
// as verifying them would have.
func applyMarks(e *openpgp.Entity, marks string) error {
	sigs := sigList(e)
	if len(sigs) != len(marks) {
		return errMarks
	}
	for i, s := range sigs {
		if s == nil {
			continue
		}
		switch marks[i] {
		case '1', '0':
			v := marks[i] == '1'
			s.Valid = &v
		}
	}
	return nil
}
