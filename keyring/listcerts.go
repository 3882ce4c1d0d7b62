package keyring

import (
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// bucketListCerts holds members' certifications of list keys, published with
// the list key: list NUL issuer fingerprint -> JSON listCert.
var bucketListCerts = []byte("listcerts")

// ListCert is a member's certification of a user ID of the list's OpenPGP key.
type ListCert struct {
	// UserID is the user ID of the list key that the signature certifies.
	UserID string `json:"uid"`
	// Issuer is the fingerprint of the member's key that made it.
	Issuer string `json:"issuer"`
	// Signature is the serialized signature packet.
	Signature []byte `json:"sig"`
}

// AddListCertification records (or replaces) a member's certification of the
// list's key. The caller has verified it.
func (k *Keyring) AddListCertification(list string, c ListCert) error {
	list = strings.ToLower(list)
	return k.update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketListCerts); err != nil {
			return err
		}
		if err := putJSON(tx, bucketListCerts, list+"\x00"+strings.ToUpper(c.Issuer), c); err != nil {
			return fmt.Errorf("record certification of %s: %w", list, err)
		}
		return nil
	})
}

// ListCertifications returns the recorded certifications of a list's key.
func (k *Keyring) ListCertifications(list string) ([]ListCert, error) {
	prefix := strings.ToLower(list) + "\x00"
	var out []ListCert
	err := k.view(func(tx *bolt.Tx) error {
		return forEachJSON(tx, bucketListCerts, func(key []byte, c *ListCert) {
			if strings.HasPrefix(string(key), prefix) {
				out = append(out, *c)
			}
		})
	})
	return out, err
}
