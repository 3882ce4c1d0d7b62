package keyring

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	bolt "go.etcd.io/bbolt"

	"cloister/internal/config"
)

// ExpiringKey is a key or certificate that stops being usable soon.
type ExpiringKey struct {
	Entry
	// Ends is when it stops being usable: for a subscriber's OpenPGP key,
	// when no encryption subkey is left (the primary key's expiry or its
	// last encryption subkey's, whichever comes first); for a list's
	// OpenPGP key, when it can no longer sign or no longer be encrypted to;
	// for a certificate, its notAfter.
	Ends time.Time
}

// Expiring returns the keys and certificates that are usable at now and
// stop being usable within the given duration (list keys first, then by
// address, kind and fingerprint). A subscriber's key is left out when the same address has
// another usable key of the same kind that lasts longer: that one takes
// over, nothing needs renewing.
func (k *Keyring) Expiring(now time.Time, within time.Duration) ([]ExpiringKey, error) {
	ents, err := k.Entries(now)
	if err != nil {
		return nil, err
	}
	s, err := k.current()
	if err != nil {
		return nil, err
	}
	// ends of every usable entry; zero for never.
	ends := make([]time.Time, len(ents))
	usable := make([]bool, len(ents))
	for i, e := range ents {
		// Subscribers' keys that can still be encrypted to (or, for a
		// sign-only certificate, sign) count; list keys must do both.
		if e.State != StateOK && (e.List || e.State != StateNoSigning) {
			continue
		}
		switch {
		case e.Kind == KindX509:
			ends[i], usable[i] = e.Expires, true
		case e.List:
			if r := s.lists[listKey(KindPGP, e.Address)]; r != nil {
				if el, err := readKeys(r.Public); err == nil {
					ends[i], usable[i] = pgpUsableUntil(el[0], now, true), true
				}
			}
		default:
			if r := s.pgp[e.Fingerprint]; r != nil {
				if ent, err := k.pgpEntity(r, now); err == nil {
					ends[i], usable[i] = pgpUsableUntil(ent, now, false), true
				}
			}
		}
	}
	limit := now.Add(within)
	var out []ExpiringKey
	for i, e := range ents {
		if !usable[i] || ends[i].IsZero() || ends[i].After(limit) || !ends[i].After(now) {
			continue
		}
		superseded := false
		for j, o := range ents {
			if j != i && usable[j] && !o.List && !e.List && o.Kind == e.Kind && o.Address == e.Address &&
				(ends[j].IsZero() || ends[j].After(ends[i])) {
				superseded = true
				break
			}
		}
		if !superseded {
			out = append(out, ExpiringKey{Entry: e, Ends: ends[i]})
		}
	}
	slices.SortStableFunc(out, func(a, b ExpiringKey) int {
		if a.List != b.List {
			if a.List {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Address+"\x00"+string(a.Kind)+"\x00"+a.Fingerprint, b.Address+"\x00"+string(b.Kind)+"\x00"+b.Fingerprint)
	})
	return out, nil
}

// pgpUsableUntil returns when e stops being usable, judged at now: the
// primary key's expiry, or earlier when its last usable encryption subkey
// (and, for a list key, signing key) expires first. Zero means never.
func pgpUsableUntil(e *openpgp.Entity, now time.Time, needSign bool) time.Time {
	var ends time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (ends.IsZero() || t.Before(ends)) {
			ends = t
		}
	}
	if sig, err := e.PrimarySelfSignature(now, nil); err == nil && sig != nil {
		earlier(lifetimeEnd(e.PrimaryKey.CreationTime, sig.KeyLifetimeSecs))
		if needSign && sig.FlagsValid && sig.FlagSign {
			// The primary key signs itself: its own expiry is the bound.
			needSign = false
		}
	}
	var encEnd, signEnd time.Time
	encNever, signNever := false, false
	for i := range e.Subkeys {
		sub := &e.Subkeys[i]
		sig, err := sub.LatestValidBindingSignature(now, nil)
		if err != nil || sig == nil || !sig.FlagsValid || sub.Revoked(sig, now) || sub.Expired(sig, now) {
			continue
		}
		end := lifetimeEnd(sub.PublicKey.CreationTime, sig.KeyLifetimeSecs)
		if sig.FlagEncryptCommunications || sig.FlagEncryptStorage {
			if end.IsZero() {
				encNever = true
			} else if end.After(encEnd) {
				encEnd = end
			}
		}
		if sig.FlagSign {
			if end.IsZero() {
				signNever = true
			} else if end.After(signEnd) {
				signEnd = end
			}
		}
	}
	if !encNever {
		earlier(encEnd)
	}
	if needSign && !signNever {
		earlier(signEnd)
	}
	return ends
}

// lifetimeEnd is creation plus a key lifetime; zero when it never ends.
func lifetimeEnd(created time.Time, secs *uint32) time.Time {
	if secs == nil || *secs == 0 {
		return time.Time{}
	}
	return created.Add(time.Duration(*secs) * time.Second)
}

// bucketNotices records the expiry notices sent, so that each key gets at
// most one per expiry and recipient: "fingerprint NUL ends (unix) NUL
// recipient" -> the time it was claimed (RFC 3339). It is created on first
// use; a keyring.db without it has sent none.
var bucketNotices = []byte("expirynotices")

// noticeKey is the key of one notice record.
func noticeKey(fingerprint string, ends time.Time, to string) []byte {
	return []byte(fingerprint + "\x00" + strconv.FormatInt(ends.Unix(), 10) + "\x00" + strings.ToLower(to))
}

// ClaimExpiryNotice records that the notice for the key fingerprint
// ending at ends is being sent to to, and reports whether it was not
// recorded before (the caller sends it only then). A notice recorded
// before its sending failed can be released with ReleaseExpiryNotice.
// Recording before sending makes a notice go at most once, even if the
// process dies between the two.
func (k *Keyring) ClaimExpiryNotice(fingerprint string, ends time.Time, to string, now time.Time) (bool, error) {
	key := noticeKey(fingerprint, ends, to)
	claimed := false
	err := k.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketNotices)
		if err != nil {
			return err
		}
		if b.Get(key) != nil {
			return nil
		}
		claimed = true
		return b.Put(key, []byte(now.UTC().Format(time.RFC3339)))
	})
	if err != nil {
		return false, fmt.Errorf("record expiry notice for %s: %w", fingerprint, err)
	}
	return claimed, nil
}

// ReleaseExpiryNotice forgets a claimed notice (its sending failed), so
// that the next run sends it.
func (k *Keyring) ReleaseExpiryNotice(fingerprint string, ends time.Time, to string) error {
	key := noticeKey(fingerprint, ends, to)
	err := k.update(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketNotices); b != nil {
			return b.Delete(key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("forget expiry notice for %s: %w", fingerprint, err)
	}
	return nil
}

// PruneExpiryNotices forgets the records of notices for expiries that
// have passed (the key no longer counts as expiring, so no notice could
// be sent again) and returns how many it removed.
func (k *Keyring) PruneExpiryNotices(now time.Time) (int, error) {
	var stale [][]byte
	err := k.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNotices)
		if b == nil {
			return nil
		}
		return b.ForEach(func(key, _ []byte) error {
			parts := strings.SplitN(string(key), "\x00", 3)
			if len(parts) != 3 {
				stale = append(stale, slices.Clone(key))
				return nil
			}
			if sec, err := strconv.ParseInt(parts[1], 10, 64); err != nil || time.Unix(sec, 0).Before(now) {
				stale = append(stale, slices.Clone(key))
			}
			return nil
		})
	})
	if err != nil || len(stale) == 0 {
		return 0, err
	}
	err = k.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketNotices)
		for _, key := range stale {
			if err := b.Delete(key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune expiry notices: %w", err)
	}
	return len(stale), nil
}

// ExpiryNoticesSent returns how many notice records the keyring holds.
func (k *Keyring) ExpiryNoticesSent() (int, error) {
	n := 0
	err := k.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketNotices); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// ReloadTrust reads the site's S/MIME trust anchors (smime_cafile,
// smime_capath) and CRLs (smime_crl_dir) again and sets them, so that a
// process that runs for days judges certificates by the CRLs published
// since it started. The daily expiry check calls it. On error the trust in
// use is kept.
func (k *Keyring) ReloadTrust(cfg *config.Config) error {
	roots, err := Roots(cfg)
	if err != nil {
		return fmt.Errorf("reload trust: %w", err)
	}
	crls, err := CRLs(cfg)
	if err != nil {
		return fmt.Errorf("reload trust: %w", err)
	}
	k.SetTrust(roots, crls)
	return nil
}
