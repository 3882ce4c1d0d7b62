package service

import (
	"context"
	"fmt"
	"strings"

	"cloister/keyring"
)

// ListKeyGenerateRequest makes a list's OpenPGP key (Kind openpgp, the
// default), self-signed S/MIME certificate (smime) or archive key
// (archive: the key its archive is encrypted to).
type ListKeyGenerateRequest struct {
	List string `json:"list"`
	Kind string `json:"kind,omitempty"`
	// RSABits asks for RSA (3072 or 4096) instead of Curve25519 for
	// OpenPGP; for S/MIME, the RSA size (default 3072).
	RSABits int `json:"rsa_bits,omitempty"`
	// Name is the name in the OpenPGP user ID (default: the local part).
	Name string `json:"name,omitempty"`
}

// ListKeyImportRequest imports a list's secret key: an OpenPGP secret key
// (Kind openpgp) or a PKCS#12 bundle or PEM certificate and key (smime).
// Password unlocks it; it is never recorded.
type ListKeyImportRequest struct {
	List     string `json:"list"`
	Kind     string `json:"kind"`
	Key      []byte `json:"-"`
	Password string `json:"-"`
}

// ListKeyResult names the list key an operation made or changed.
type ListKeyResult struct {
	List        string `json:"list"`
	Kind        string `json:"kind"`
	Fingerprint string `json:"fingerprint"`
}

var (
	opListKeyGenerate = Op{"listkey.generate", ClassSite, ""}
	opListKeyImport   = Op{"listkey.import", ClassSite, ""}
)

// ListKeyGenerate makes a list key (site admins). The secret key stays in
// the site's keyring.
func (s *Service) ListKeyGenerate(ctx context.Context, a Actor, req ListKeyGenerateRequest) (res ListKeyResult, err error) {
	list := s.listAddress(req.List)
	defer func() { s.audit(a, opListKeyGenerate, list, req.Kind, err) }()
	if err := s.authorize(a, opListKeyGenerate, nil); err != nil {
		return ListKeyResult{}, err
	}
	k, err := s.openKeyring()
	if err != nil {
		return ListKeyResult{}, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	var fpr string
	switch req.Kind {
	case "smime":
		if req.RSABits != 0 {
			keyring.SMIMERSABits = req.RSABits
		}
		fpr, err = k.GenerateSMIME(list)
	case "archive":
		fpr, err = k.GenerateArchiveKey(list)
	case "", "openpgp":
		req.Kind = "openpgp"
		algo := keyring.AlgoCurve25519
		switch req.RSABits {
		case 0:
		case 3072:
			algo = keyring.AlgoRSA3072
		case 4096:
			algo = keyring.AlgoRSA4096
		default:
			return ListKeyResult{}, errorf(CodeInvalid, "RSA size %d: use 3072 or 4096", req.RSABits)
		}
		fpr, err = k.GenerateOpenPGP(list, req.Name, algo)
	default:
		return ListKeyResult{}, errorf(CodeInvalid, "unknown key kind %q (openpgp, smime or archive)", req.Kind)
	}
	if err != nil {
		return ListKeyResult{}, wrapf(err, CodeInvalid, "the %s key of %s was not made: %v", req.Kind, list, err)
	}
	s.auditDone(a, opListKeyGenerate, list, req.Kind+" "+fpr)
	return ListKeyResult{List: list, Kind: req.Kind, Fingerprint: fpr}, nil
}

// ListKeyImport imports a list's secret key (site admins).
func (s *Service) ListKeyImport(ctx context.Context, a Actor, req ListKeyImportRequest) (res ListKeyResult, err error) {
	list := s.listAddress(req.List)
	defer func() { s.audit(a, opListKeyImport, list, req.Kind, err) }()
	if err := s.authorize(a, opListKeyImport, nil); err != nil {
		return ListKeyResult{}, err
	}
	if len(req.Key) == 0 {
		return ListKeyResult{}, errorf(CodeInvalid, "no key given")
	}
	k, err := s.openKeyring()
	if err != nil {
		return ListKeyResult{}, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	var fpr string
	switch req.Kind {
	case "openpgp":
		var pass []byte
		if req.Password != "" {
			pass = []byte(req.Password)
		}
		fpr, err = k.ImportOpenPGPSecret(list, req.Key, pass)
	case "smime":
		fpr, err = k.ImportSMIME(list, req.Key, req.Password)
	default:
		return ListKeyResult{}, errorf(CodeInvalid, "unknown key kind %q (openpgp or smime)", req.Kind)
	}
	if err != nil {
		return ListKeyResult{}, wrapf(err, CodeInvalid, "%v", fmt.Errorf("import the %s key of %s: %w", req.Kind, list, err))
	}
	s.auditDone(a, opListKeyImport, list, req.Kind+" "+fpr)
	return ListKeyResult{List: list, Kind: req.Kind, Fingerprint: fpr}, nil
}

// ListKeyRevokeRequest revokes a list's OpenPGP key or removes its S/MIME
// certificate; Fingerprint names it (its last 16 hex digits at least).
type ListKeyRevokeRequest struct {
	List        string `json:"list"`
	Fingerprint string `json:"fingerprint"`
}

// RekeyRequest re-seals every list's private key under a new passphrase,
// which is never recorded.
type RekeyRequest struct {
	Passphrase []byte `json:"-"`
}

var (
	opListKeyRevoke = Op{"listkey.revoke", ClassSite, ""}
	opKeyringRekey  = Op{"keyring.rekey", ClassSite, ""}
)

// ListKeyRevoke revokes a list's OpenPGP key (Kind openpgp: the revoked
// key is then exported for publication) or removes its certificate (Kind
// x509; its CA revokes it). Not found when the list has no key of that
// fingerprint.
func (s *Service) ListKeyRevoke(ctx context.Context, a Actor, req ListKeyRevokeRequest) (res ListKeyResult, err error) {
	list := s.listAddress(req.List)
	defer func() { s.audit(a, opListKeyRevoke, list, req.Fingerprint, err) }()
	if err := s.authorize(a, opListKeyRevoke, nil); err != nil {
		return ListKeyResult{}, err
	}
	want := strings.ToUpper(strings.TrimPrefix(strings.ReplaceAll(req.Fingerprint, " ", ""), "0x"))
	if len(want) < 16 {
		return ListKeyResult{}, errorf(CodeInvalid, "fingerprint %q: give at least 16 hex digits", req.Fingerprint)
	}
	k, err := s.openKeyring()
	if err != nil {
		return ListKeyResult{}, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	ents, err := k.Entries(s.now())
	if err != nil {
		return ListKeyResult{}, internal(err, "read the keyring")
	}
	for _, e := range ents {
		if !e.List || e.Address != list || !strings.HasSuffix(e.Fingerprint, want) {
			continue
		}
		var fpr string
		if e.Kind == keyring.KindPGP {
			fpr, err = k.RevokeList(list)
		} else {
			fpr, err = k.RemoveListKey(list, keyring.KindX509)
		}
		if err != nil {
			return ListKeyResult{}, internal(err, "revoke the list key")
		}
		s.auditDone(a, opListKeyRevoke, list, string(e.Kind)+" "+fpr)
		return ListKeyResult{List: list, Kind: string(e.Kind), Fingerprint: fpr}, nil
	}
	return ListKeyResult{}, errorf(CodeNotFound, "%s has no list key %s", list, want)
}

// KeyringRekey re-seals every list's private key under a new passphrase;
// it returns how many were re-sealed.
func (s *Service) KeyringRekey(ctx context.Context, a Actor, req RekeyRequest) (n int, err error) {
	defer func() { s.audit(a, opKeyringRekey, "", "", err) }()
	if err := s.authorize(a, opKeyringRekey, nil); err != nil {
		return 0, err
	}
	if len(req.Passphrase) == 0 {
		return 0, errorf(CodeInvalid, "no passphrase given")
	}
	k, err := s.openKeyring()
	if err != nil {
		return 0, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	if n, err = k.Rekey(req.Passphrase); err != nil {
		return 0, internal(err, "re-seal the list keys")
	}
	s.auditDone(a, opKeyringRekey, "", fmt.Sprintf("%d list keys", n))
	return n, nil
}
