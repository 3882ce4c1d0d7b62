package service

import (
	"errors"
	"fmt"

	"cloister/keyring"
	"cloister/styles"
)

// errNoKeyring is returned when the service was built without a way to
// open the keyring.
var errNoKeyring = errors.New("no keyring configured")

// openKeyring opens the site's keyring for an operation that changes keys.
func (s *Service) openKeyring() (*keyring.Keyring, error) {
	if k := s.site.Keyring; k != nil {
		return k, nil
	}
	if s.keyring == nil {
		return nil, errNoKeyring
	}
	return s.keyring()
}

// makeKeys makes the list keys a style asks for; onlyMissing leaves a
// kind the list already has. A failure names the command that makes the
// key by hand (the list itself exists by then).
func (s *Service) makeKeys(st *styles.Style, list string, onlyMissing bool) ([]MadeKey, error) {
	k, err := s.openKeyring()
	if err != nil {
		return nil, wrapf(err, CodeUnavailable, "the keyring cannot be opened to make the list keys of style %s", st.Name)
	}
	var made []MadeKey
	for _, kind := range st.Keys {
		switch kind {
		case "openpgp":
			if onlyMissing {
				if _, err := k.ListKeyPGP(list); err == nil {
					continue
				}
			}
			fpr, err := k.GenerateOpenPGP(list, "", keyring.AlgoCurve25519)
			if err != nil {
				return made, wrapf(err, CodeUnavailable, "%s", fmt.Sprintf("list %s is set up, but its OpenPGP key was not made (cloister key generate %s)", list, list))
			}
			made = append(made, MadeKey{Kind: kind, Fingerprint: fpr})
		case "smime":
			if onlyMissing {
				if _, _, _, err := k.ListKeySMIME(list); err == nil {
					continue
				}
			}
			fpr, err := k.GenerateSMIME(list)
			if err != nil {
				return made, wrapf(err, CodeUnavailable, "%s", fmt.Sprintf("list %s is set up, but its S/MIME certificate was not made (cloister key generate --smime %s)", list, list))
			}
			made = append(made, MadeKey{Kind: kind, Fingerprint: fpr})
		}
	}
	return made, nil
}
