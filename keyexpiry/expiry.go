// Package keyexpiry is the daily check of the keys and certificates that
// stop being usable soon (DueExpiries) and the notices it mails to their
// holders and to the owners (KeyExpiryNotices).
package keyexpiry

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"cloister/internal/decision"
	"cloister/internal/listaddr"
	"cloister/internal/site"
	"cloister/keyring"
	"cloister/lists"
	"cloister/notices"
	"cloister/queue"
)

// ExpiryKeys is what KeyExpiryNotices needs of the keyring: the keys that
// stop being usable soon, and a record of the notices sent (the keyring
// package implements it, in keyring.db's expirynotices bucket).
type ExpiryKeys interface {
	Expiring(now time.Time, within time.Duration) ([]keyring.ExpiringKey, error)
	ClaimExpiryNotice(fingerprint string, ends time.Time, to string, now time.Time) (bool, error)
	ReleaseExpiryNotice(fingerprint string, ends time.Time, to string) error
	PruneExpiryNotices(now time.Time) (int, error)
}

// Due is a key or certificate that a list's settings say to warn of now,
// with the people to warn: the owners (or, without any, the listmasters)
// for the list's own key, the holder for a subscriber's.
type Due struct {
	// List is the list whose settings made it due.
	List *lists.List
	// Key is the key or certificate, and when it stops being usable.
	Key keyring.ExpiringKey
	// To are the recipients of the warning.
	To []string
}

// DueExpiries returns, list by list, the keys and certificates that stop
// being usable within the list's key_warn_days (OpenPGP) or
// cert_warn_days (certificates) at now: the list's own, and those of the
// people on its roster (every role). A site without a keyring has none.
func DueExpiries(s *site.Site, now time.Time) ([]Due, error) {
	if s.Keyring == nil {
		return nil, nil
	}
	var keys ExpiryKeys = s.Keyring
	var all []*lists.List
	if err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		all, err = tx.Lists()
		return err
	}); err != nil {
		return nil, err
	}
	var longest time.Duration
	for _, l := range all {
		longest = max(longest, warnWindow(l, keyring.KindPGP), warnWindow(l, keyring.KindX509))
	}
	if longest == 0 {
		return nil, nil
	}
	exp, err := keys.Expiring(now, longest)
	if err != nil || len(exp) == 0 {
		return nil, err
	}
	of := map[string][]keyring.ExpiringKey{}  // address -> subscriber keys
	own := map[string][]keyring.ExpiringKey{} // list -> list keys
	for _, e := range exp {
		if e.List {
			own[e.Address] = append(own[e.Address], e)
		} else {
			of[e.Address] = append(of[e.Address], e)
		}
	}
	var out []Due
	for _, l := range all {
		var owners []string
		var members []Due
		err := s.Lists.View(func(tx *lists.Tx) error {
			return tx.ForEachMember(l.Address, func(m *lists.Member) error {
				if m.IsOwner() {
					owners = append(owners, m.Address)
				}
				for _, e := range of[strings.ToLower(m.Address)] {
					if due(l, e, now) {
						members = append(members, Due{List: l, Key: e, To: []string{m.Address}})
					}
				}
				return nil
			})
		})
		if err != nil {
			return nil, fmt.Errorf("roster of %s: %w", l.Address, err)
		}
		if len(owners) == 0 {
			owners = s.Config.Listmasters
		}
		for _, e := range own[l.Address] {
			if due(l, e, now) {
				out = append(out, Due{List: l, Key: e, To: owners})
			}
		}
		out = append(out, members...)
	}
	return out, nil
}

// KeyExpiryNotices is the daily key and certificate check (after Sympa's
// chk_cert_expiration). For each list, it mails each person on the roster
// whose OpenPGP key stops being usable within the list's key_warn_days, or
// whose certificate ends within its cert_warn_days, and the list's owners
// (the listmasters when it has none) when the list's own key or
// certificate does (DueExpiries). Notices go to the outgoing queue, which
// signs them with the list's key (and encrypts them to recipients with a
// usable key). Each key gets at most one notice per expiry and recipient,
// even when the person is on several lists: the notice is recorded in
// keyring.db before it is queued (and the record dropped if queueing
// fails). Records of expiries that have passed are pruned. It first reads
// the site's trust anchors and CRLs again (keyring.ReloadTrust), so that a
// long-running process judges certificates by current CRLs. It returns how
// many notices were queued.
func KeyExpiryNotices(s *site.Site, now time.Time) (sent int, err error) {
	if s.Keyring == nil {
		return 0, nil // no keyring: nothing can expire
	}
	var keys ExpiryKeys = s.Keyring
	var errs []error
	// CRLs published since the process started count from now on.
	if err := s.Keyring.ReloadTrust(s.Config); err != nil {
		errs = append(errs, err)
	}
	dues, err := DueExpiries(s, now)
	if err != nil {
		return 0, errors.Join(append(errs, fmt.Errorf("key expiry: %w", err))...)
	}
	for _, d := range dues {
		l := d.List
		for _, to := range d.To {
			n := memberKeyExpiryNotice(l, d.Key, to, now)
			if d.Key.List {
				n = listKeyExpiryNotice(l, d.Key, to, now)
			}
			ok, err := sendExpiryNotice(s, keys, n, d.Key, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("key expiry of %s: %w", l.Address, err))
			}
			if ok {
				sent++
			}
		}
	}
	if _, err := keys.PruneExpiryNotices(now); err != nil {
		errs = append(errs, err)
	}
	return sent, errors.Join(errs...)
}

// warnWindow is how long before expiry list l warns of keys of kind; zero
// for never.
func warnWindow(l *lists.List, kind keyring.Kind) time.Duration {
	days := l.Settings.KeyWarnDays
	if kind == keyring.KindX509 {
		days = l.Settings.CertWarnDays
	}
	return time.Duration(max(days, 0)) * 24 * time.Hour
}

// due reports whether e ends within list l's warning window at now.
func due(l *lists.List, e keyring.ExpiringKey, now time.Time) bool {
	w := warnWindow(l, e.Kind)
	return w > 0 && !e.Ends.After(now.Add(w))
}

// sendExpiryNotice records and queues one notice, unless it was sent before.
func sendExpiryNotice(s *site.Site, keys ExpiryKeys, n *notices.Notice, e keyring.ExpiringKey, now time.Time) (bool, error) {
	claimed, err := keys.ClaimExpiryNotice(e.Fingerprint, e.Ends, n.To, now)
	if err != nil || !claimed {
		return false, err
	}
	if _, err := s.Queue(queue.Out).EnqueueBytes(n.Meta("notice", n.To), n.Bytes(now)); err != nil {
		err = fmt.Errorf("queue expiry notice to %s: %w", n.To, err)
		if rerr := keys.ReleaseExpiryNotice(e.Fingerprint, e.Ends, n.To); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return false, err
	}
	s.Log.Info("decision", "decision", decision.KeyExpiryNotice, "list", n.List, "to", n.To, "kind", e.Kind,
		"fingerprint", e.Fingerprint, "list_key", e.List, "ends", e.Ends.UTC().Format(time.RFC3339))
	return true, nil
}

// daysLeft is the number of whole or started days from now to t.
func daysLeft(now, t time.Time) int {
	return int(math.Ceil(t.Sub(now).Hours() / 24))
}

// expiryWhen says when e ends, in words.
func expiryWhen(e keyring.ExpiringKey, now time.Time) string {
	d := daysLeft(now, e.Ends)
	unit := "days"
	if d == 1 {
		unit = "day"
	}
	return fmt.Sprintf("%s (in %d %s)", e.Ends.UTC().Format("2006-01-02 15:04 UTC"), d, unit)
}

// memberKeyExpiryNotice tells a person on l's roster that their key or
// certificate stops being usable soon, and how to renew it.
func memberKeyExpiryNotice(l *lists.List, e keyring.ExpiringKey, to string, now time.Time) *notices.Notice {
	owner := listaddr.Address(l.Address, queue.SubOwner)
	request := listaddr.Address(l.Address, queue.SubRequest)
	date := e.Ends.UTC().Format(time.DateOnly)
	var subject string
	var b strings.Builder
	if e.Kind == keyring.KindPGP {
		subject = "Your OpenPGP key expires on " + date + " (" + l.Address + ")"
		fmt.Fprintf(&b, "Your OpenPGP key\n\n  %s\n\nwhich %s uses to encrypt posts to you, stops being usable on\n%s.\n\n",
			e.Fingerprint, l.Address, expiryWhen(e, now))
		fmt.Fprintf(&b, "After that date the list cannot encrypt posts to you; a list that\n"+
			"distributes only encrypted posts sends you notices instead.\n\n"+
			"To keep receiving posts, extend the key's expiry date, with GnuPG for\nexample:\n\n"+
			"  gpg --quick-set-expire %s 1y\n  gpg --quick-set-expire %s 1y '*'\n\n"+
			"and send the updated public key to %s with the\n"+
			"command \"key change\", in a message signed with this key, before it\n"+
			"expires (the list's help explains the command). Or send it to the list\nowners at %s.\n",
			e.Fingerprint, e.Fingerprint, request, owner)
	} else {
		subject = "Your S/MIME certificate expires on " + date + " (" + l.Address + ")"
		fmt.Fprintf(&b, "Your S/MIME certificate (SHA-256 fingerprint)\n\n  %s\n\nwhich %s uses to encrypt posts to you and to check your\n"+
			"signatures, ends on %s.\n\n", e.Fingerprint, l.Address, expiryWhen(e, now))
		fmt.Fprintf(&b, "After that date the list cannot encrypt posts to you nor accept your\n"+
			"signature. Get a new certificate from your certificate authority, then\n"+
			"send a message signed with it to %s (the list\n"+
			"keeps the certificate of a verified signature), or send the certificate\n"+
			"to the list owners at %s.\n", request, owner)
	}
	return &notices.Notice{List: l.Address, From: owner, To: to, Subject: subject, Body: b.String()}
}

// listKeyExpiryNotice tells an owner that the list's own key or
// certificate stops being usable soon.
func listKeyExpiryNotice(l *lists.List, e keyring.ExpiringKey, to string, now time.Time) *notices.Notice {
	owner := listaddr.Address(l.Address, queue.SubOwner)
	date := e.Ends.UTC().Format(time.DateOnly)
	var subject string
	var b strings.Builder
	if e.Kind == keyring.KindPGP {
		subject = "The OpenPGP key of " + l.Address + " expires on " + date
		fmt.Fprintf(&b, "The OpenPGP key of %s\n\n  %s\n\nstops being usable on %s.\n\n", l.Address, e.Fingerprint, expiryWhen(e, now))
		fmt.Fprintf(&b, "After that date the list can neither sign its mail with it nor decrypt\n"+
			"posts encrypted to it, and subscribers' clients refuse to encrypt to it.\n"+
			"Ask the site's operator to replace it before then:\n\n"+
			"  cloister key revoke %s %s\n  cloister key generate %s --pgp\n  cloister key export %s\n\n"+
			"and publish the new public key to the subscribers.\n", l.Address, e.Fingerprint, l.Address, l.Address)
	} else {
		subject = "The S/MIME certificate of " + l.Address + " expires on " + date
		fmt.Fprintf(&b, "The S/MIME certificate of %s (SHA-256 fingerprint)\n\n  %s\n\nends on %s.\n\n", l.Address, e.Fingerprint, expiryWhen(e, now))
		fmt.Fprintf(&b, "After that date subscribers' clients refuse the list's signatures and\n"+
			"stop encrypting to it. Ask the site's operator to have it renewed before\nthen:\n\n"+
			"  cloister key csr %s > list.csr      (for the certificate authority)\n"+
			"  cloister key import %s renewed.pem  (the new certificate)\n", l.Address, l.Address)
	}
	return &notices.Notice{List: l.Address, From: owner, To: to, Subject: subject, Body: b.String()}
}
