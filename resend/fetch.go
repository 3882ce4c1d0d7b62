package resend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/refusal"
	"cloister/keyring"
	"cloister/lists"
)

// Bounds of the key fetching of one post's resend orders. Each HTTP exchange
// is also bounded by the fetcher's own timeout (keyring.DefaultFetchTimeout),
// and the orders name at most maxResend addresses.
const (
	// resendFetchPerAddress bounds one address's fetch: WKD advanced method,
	// direct method, then the keyserver.
	resendFetchPerAddress = 2 * keyring.DefaultFetchTimeout
	// resendFetchBudget bounds all the fetches of one post, so that a post
	// naming many unreachable domains holds the pipeline runner for a minute
	// at most; addresses left when it runs out are treated as keyless.
	resendFetchBudget = 4 * keyring.DefaultFetchTimeout
)

// keyAdder stores a fetched key (the site's keyring).
type keyAdder interface {
	AddOpenPGP(address string, data []byte, boundByOwner bool) (string, error)
}

// resendKeys decides, address by address, whether a resent copy can be
// encrypted: to a key on file, or, when the list's resend_fetch_keys allows
// it, to a key fetched by WKD or from the keyserver, which is then added to
// the keyring (so that later copies find it on file).
type resendKeys struct {
	j       *Job
	list    string
	ctx     context.Context
	fetch   func(ctx context.Context, address string) (*keyring.Fetched, error) // nil: no fetching
	add     keyAdder
	sources any                       // where keys are looked for, for the report (a string or a refusal.Reason)
	failed  map[string]refusal.Reason // addresses already looked up in vain, and why
}

// newResendKeys returns the key lookup of list's resend orders. Fetching is
// on when the list's resend_fetch_keys is, the list has an OpenPGP key (a
// fetched key is of no use otherwise) and the site's keys can store a key.
func newResendKeys(ctx context.Context, j *Job, list *lists.List) *resendKeys {
	r := &resendKeys{j: j, list: list.Address, ctx: ctx, failed: map[string]refusal.Reason{}}
	s := j.Site
	if !list.Settings.ResendFetchKeys || s.Keys == nil || s.Keyring == nil {
		return r
	}
	var add keyAdder = s.Keyring
	if _, err := s.Keys.ListPGP(list.Address); err != nil {
		return r
	}
	r.add, r.fetch, r.sources = add, s.FetchKey, "WKD"
	if s.Config != nil && s.Config.Keyserver != "" {
		r.sources = refusal.Reasonf("WKD or keyserver")
	}
	if r.fetch == nil {
		f := &keyring.Fetcher{}
		if s.Config != nil {
			f.Keyserver = s.Config.Keyserver
		}
		r.fetch = f.Fetch
	}
	return r
}

// lookup reports whether the copy to addr can be encrypted and, for the
// report, how its key was fetched (fetched, when it was) or why there is no
// key (why, when keyed is false). An address with a usable key on file is
// never looked up.
func (r *resendKeys) lookup(addr string) (keyed bool, fetched, why refusal.Reason) {
	if canEncrypt(r.j.Site, r.list, addr, r.j.Now) {
		return true, refusal.Reason{}, refusal.Reason{}
	}
	why = refusal.Reasonf("no key of this address is on file")
	if r.fetch == nil {
		return false, refusal.Reason{}, why
	}
	if w, ok := r.failed[addr]; ok {
		return false, refusal.Reason{}, w
	}
	if r.ctx.Err() != nil {
		why = refusal.Reasonf("%s and no time was left to look for one", why)
		r.failed[addr] = why
		return false, refusal.Reason{}, why
	}
	ctx, cancel := context.WithTimeout(r.ctx, resendFetchPerAddress)
	defer cancel()
	got, err := r.fetch(ctx, addr)
	if err != nil {
		r.j.Log.Info("resend key not fetched", "address", addr, "error", err)
		switch {
		case errors.Is(err, keyring.ErrFetchNotFound) && timedOut(err):
			why = refusal.Reasonf("%s and none was found by %s (the lookup timed out)", why, r.sources)
		case errors.Is(err, keyring.ErrFetchNotFound):
			why = refusal.Reasonf("%s and none was found by %s", why, r.sources)
		default:
			why = refusal.Reasonf("%s and none could be looked up", why)
		}
		r.failed[addr] = why
		return false, refusal.Reason{}, why
	}
	fpr, err := r.store(addr, got)
	if err != nil {
		r.j.Log.Info("resend key fetched, not used", "address", addr, "source", got.Source, "error", err)
		why = refusal.Reasonf("%s and the key found (%s) cannot be used", why, got.Fingerprint)
		r.failed[addr] = why
		return false, refusal.Reason{}, why
	}
	r.j.Log.Info("resend key fetched", "address", addr, "fingerprint", fpr, "source", got.Source)
	return true, refusal.Reasonf("%s, fetched from %s", fpr, got.Source), refusal.Reason{}
}

// store adds a fetched key to the keyring when it can be encrypted to, and
// checks that the keyring now gives it for addr. The keyring, not the
// fetcher, has the last word on the binding of key and address.
func (r *resendKeys) store(addr string, got *keyring.Fetched) (string, error) {
	el, err := openpgp.ReadKeyRing(bytes.NewReader(got.Key))
	if err != nil || len(el) != 1 {
		return "", fmt.Errorf("read fetched key: %d keys, %v", len(el), err)
	}
	if _, err := el[0].EncryptionKeyWithError(r.j.Now, nil); err != nil {
		return "", fmt.Errorf("fetched key %s: %w", got.Fingerprint, err)
	}
	fpr, err := r.add.AddOpenPGP(addr, got.Key, false)
	if err != nil {
		return "", err
	}
	if !canEncrypt(r.j.Site, r.list, addr, r.j.Now) {
		return "", fmt.Errorf("fetched key %s stored but not usable for %s", fpr, addr)
	}
	return fpr, nil
}

// timedOut reports whether err, or one of the errors it joins, is a timeout.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
