package service

import (
	"context"
	"fmt"
	"strings"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/keyring"
	"cloister/lists"
)

// KeyBulkImportRequest adds many subscribers' public keys at once (an
// exported keyring): each is bound to the addresses of its user IDs that
// are members of a list on the site.
type KeyBulkImportRequest struct {
	Keys openpgp.EntityList `json:"-"`
}

var opKeyBulkImport = Op{"key.import", ClassSite, ""}

// KeyBulkImport imports the keys in one keyring transaction (site admins)
// and returns, per distinct key, what was bound and why the rest was not
// (keyring.ImportOpenPGPKeys). A result may come with an error for the
// keys not reached.
func (s *Service) KeyBulkImport(ctx context.Context, a Actor, req KeyBulkImportRequest) (res []keyring.BulkResult, err error) {
	defer func() { s.audit(a, opKeyBulkImport, "", "", err) }()
	if err := s.authorize(a, opKeyBulkImport, nil); err != nil {
		return nil, err
	}
	if len(req.Keys) > keyring.MaxBulkKeys {
		return nil, errorf(CodeTooLarge, "more than %d keys", keyring.MaxBulkKeys)
	}
	members := map[string]bool{}
	err = s.site.Lists.View(func(tx *lists.Tx) error {
		all, err := tx.ListAddresses()
		if err != nil {
			return err
		}
		for _, l := range all {
			err := tx.ForEachMember(l, func(m *lists.Member) error {
				members[strings.ToLower(m.Address)] = true
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeError(err, "read the members")
	}
	k, err := s.openKeyring()
	if err != nil {
		return nil, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	res, err = k.ImportOpenPGPKeys(req.Keys, func(addr string) bool { return members[addr] })
	if res != nil {
		bound := 0
		for _, r := range res {
			bound += len(r.Bound)
		}
		s.auditDone(a, opKeyBulkImport, "", fmt.Sprintf("%d keys, bound to %d addresses", len(res), bound))
	}
	if err != nil {
		return res, internal(err, "import the keys")
	}
	return res, nil
}
