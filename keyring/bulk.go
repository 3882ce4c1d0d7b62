package keyring

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	bolt "go.etcd.io/bbolt"
)

// MaxBulkKeys bounds the keys one bulk import reads.
const MaxBulkKeys = 200000

// ReadOpenPGPKeys reads every public key of r: binary packets (an exported
// keyring), or any number of armored blocks, each holding any number of
// keys (`gpg --export --armor`, or key files put one after the other).
func ReadOpenPGPKeys(r io.Reader) (openpgp.EntityList, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(1)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("read OpenPGP keys: empty input")
		}
		return nil, fmt.Errorf("read OpenPGP keys: %w", err)
	}
	if head[0]&0x80 != 0 { // binary packets
		el, err := openpgp.ReadKeyRing(br)
		if err != nil {
			return nil, fmt.Errorf("read OpenPGP keys: %w", err)
		}
		return el, checkBulkCount(el)
	}
	var el openpgp.EntityList
	for {
		block, err := armor.Decode(br)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read OpenPGP keys: armor block %d: %w", len(el)+1, err)
		}
		if block.Type != openpgp.PublicKeyType && block.Type != openpgp.PrivateKeyType {
			return nil, fmt.Errorf("read OpenPGP keys: armor block of type %q, want a public key block", block.Type)
		}
		keys, err := openpgp.ReadKeyRing(block.Body)
		if err != nil {
			return nil, fmt.Errorf("read OpenPGP keys: %w", err)
		}
		el = append(el, keys...)
		if err := checkBulkCount(el); err != nil {
			return nil, err
		}
	}
	if len(el) == 0 {
		return nil, errors.New("read OpenPGP keys: no key in the input")
	}
	return el, nil
}

func checkBulkCount(el openpgp.EntityList) error {
	if len(el) > MaxBulkKeys {
		return fmt.Errorf("read OpenPGP keys: more than %d keys", MaxBulkKeys)
	}
	return nil
}

// BulkResult is what a bulk import made of one key: the addresses it was
// bound to, and the addresses of its user IDs it was not bound to, with
// why; or the error that kept the key out.
type BulkResult struct {
	Fingerprint string
	Bound       []string
	NotBound    map[string]string // address -> reason
	Err         error
}

// ImportOpenPGPKeys adds many subscribers' public keys in one transaction,
// each bound to the addresses of its own self-signed user IDs for which
// want returns true (the site's members, say). A key is checked as
// AddOpenPGP checks it (limits, a valid self-signature; third-party
// certifications dropped, revocations on file kept). An address is not
// bound when several keys of the input claim it, or when another key is
// already bound to it: a user ID claims an address, it does not prove it,
// so a bulk import never takes an address from the key on file nor picks
// between claimants (`cloister key add ADDRESS FILE` does, on the
// operator's word). The signature checks made here are kept for the
// runners (SaveChecks). Results are in the order of keys, one per
// fingerprint: a key given twice (in two files, say) is taken once, the
// first time.
func (k *Keyring) ImportOpenPGPKeys(keys openpgp.EntityList, want func(address string) bool) ([]BulkResult, error) {
	keys = distinctKeys(keys)
	res := make([]BulkResult, len(keys))
	addrs := make([][]string, len(keys))
	// The checks verify signatures: on every core.
	var wg sync.WaitGroup
	next := make(chan int, len(keys))
	for i := range keys {
		next <- i
	}
	close(next)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				e := keys[i]
				res[i].Fingerprint = Fingerprint(e)
				res[i].NotBound = map[string]string{}
				if len(e.Subkeys) > maxSubkeys || len(e.Identities) > maxIdentities {
					res[i].Err = fmt.Errorf("key with %d subkeys and %d user IDs is over the limits (%d, %d)",
						len(e.Subkeys), len(e.Identities), maxSubkeys, maxIdentities)
					continue
				}
				if _, err := e.VerifyPrimaryKey(time.Time{}, nil); err != nil && !errors.Is(err, pgperrors.ErrKeyRevoked) {
					res[i].Err = fmt.Errorf("no valid self-signature: %w", err)
					continue
				}
				for _, id := range e.Identities {
					id.OtherCertifications = nil
				}
				checkSignatures(e)
				addrs[i] = userIDAddresses(e)
			}
		}()
	}
	wg.Wait()

	claims := map[string][]int{} // address -> keys of the input claiming it
	for i, as := range addrs {
		if res[i].Err != nil {
			continue
		}
		for _, a := range as {
			if want != nil && !want(a) {
				res[i].NotBound[a] = "not a member of any list"
				continue
			}
			claims[a] = append(claims[a], i)
		}
	}
	s, err := k.current()
	if err != nil {
		return nil, err
	}
	bind := make([][]string, len(keys))
	for a, ks := range claims {
		if len(ks) > 1 {
			fprs := make([]string, len(ks))
			for j, i := range ks {
				fprs[j] = res[i].Fingerprint
			}
			sort.Strings(fprs)
			for _, i := range ks {
				res[i].NotBound[a] = fmt.Sprintf("claimed by %d keys of the input (%v)", len(ks), fprs)
			}
			continue
		}
		i := ks[0]
		if other := otherKey(s.pgpAddr[a], res[i].Fingerprint); other != "" {
			res[i].NotBound[a] = "another key is bound to it: " + other
			continue
		}
		bind[i] = append(bind[i], a)
	}

	now := k.now()
	type stored struct {
		rec *pgpRecord
		e   *openpgp.Entity
	}
	var kept []stored
	err = k.update(func(tx *bolt.Tx) error {
		kept = kept[:0]
		for i, e := range keys {
			if res[i].Err != nil || len(bind[i]) == 0 {
				continue
			}
			fpr := res[i].Fingerprint
			var rec pgpRecord
			found, err := getJSON(tx, bucketPGP, fpr, &rec)
			if err != nil {
				return err
			}
			if found {
				keepRevocations(e, rec.Key)
			} else {
				rec = pgpRecord{Fingerprint: fpr, Added: now}
			}
			var pub bytes.Buffer
			if err := e.Serialize(&pub); err != nil {
				return fmt.Errorf("serialize key %s: %w", fpr, err)
			}
			rec.Key = pub.Bytes()
			for _, a := range bind[i] {
				if !slices.Contains(rec.Addresses, a) {
					rec.Addresses = append(rec.Addresses, a)
				}
				if err := tx.Bucket(bucketPGPAddr).Put([]byte(a+"\x00"+fpr), nil); err != nil {
					return err
				}
			}
			if err := putJSON(tx, bucketPGP, fpr, &rec); err != nil {
				return err
			}
			ids := tx.Bucket(bucketPGPID)
			for _, id := range keyIDs(e) {
				if err := ids.Put(idKey(id, fpr), nil); err != nil {
					return err
				}
			}
			kept = append(kept, stored{&rec, e})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store keys: %w", err)
	}
	for i := range keys {
		if res[i].Err == nil {
			res[i].Bound = bind[i]
		}
	}
	// Keys with revocations added from the record carry signatures this
	// import did not verify; their marks say so ('-') and are verified at
	// first use.
	k.mu.Lock()
	for _, st := range kept {
		k.keepMarks(st.rec, st.e)
	}
	k.mu.Unlock()
	if err := k.SaveChecks(); err != nil {
		return res, err
	}
	return res, nil
}

// otherKey returns a fingerprint of fprs other than fpr, or "".
func otherKey(fprs []string, fpr string) string {
	for _, f := range fprs {
		if f != fpr {
			return f
		}
	}
	return ""
}

// distinctKeys returns keys without the later copies of a fingerprint.
func distinctKeys(keys openpgp.EntityList) openpgp.EntityList {
	seen := make(map[string]bool, len(keys))
	out := make(openpgp.EntityList, 0, len(keys))
	for _, e := range keys {
		if f := Fingerprint(e); !seen[f] {
			seen[f] = true
			out = append(out, e)
		}
	}
	return out
}
